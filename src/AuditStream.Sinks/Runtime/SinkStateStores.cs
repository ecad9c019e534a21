using AuditStream.Ledger;

namespace AuditStream.Sinks.Runtime;

/// <summary>The sink state store that goes with a ledger: <c>sinks.db</c> beside a SQLite ledger, shared tables in a PostgreSQL one.</summary>
public static class SinkStateStores
{
    /// <summary>Opens the store for the ledger of <paramref name="options"/> (creating or migrating it).</summary>
    public static async Task<ISinkStateStore> OpenAsync(LedgerOptions options, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Provider == LedgerProvider.Postgres
            ? await PostgresSinkStateStore.OpenAsync(
                options.ConnectionString ?? throw new InvalidOperationException(
                    $"{LedgerOptions.SectionName}:ConnectionString is required when {LedgerOptions.SectionName}:Provider is Postgres."),
                time,
                cancellationToken).ConfigureAwait(false)
            : await SinkStateStore.OpenAsync(options.DataDirectory, time, cancellationToken).ConfigureAwait(false);
    }
}
