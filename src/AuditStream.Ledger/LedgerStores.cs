using AuditStream.Ledger.Postgres;
using AuditStream.Ledger.Privacy;
using AuditStream.Ledger.Sqlite;
using AuditStream.Ledger.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuditStream.Ledger;

/// <summary>The ledger store <see cref="LedgerOptions.Provider"/> selects: what the server, the CLI and tools open.</summary>
public static class LedgerStores
{
    /// <summary>
    /// The store of <paramref name="options"/>, not initialized: it reads an existing ledger as is (verification, export)
    /// and creates or migrates one only on <see cref="ILedgerStore.InitializeAsync"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">PostgreSQL without a connection string (the message names the key).</exception>
    public static ILedgerStore Create(LedgerOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        loggerFactory ??= NullLoggerFactory.Instance;
        return options.Provider switch
        {
            LedgerProvider.Sqlite => new SqliteLedgerStore(options.DatabasePath, loggerFactory.CreateLogger<SqliteLedgerStore>()),
            LedgerProvider.Postgres => new PostgresLedgerStore(RequireConnectionString(options)),
            _ => throw new InvalidOperationException($"Unknown {LedgerOptions.SectionName}:Provider '{options.Provider}' (Sqlite or Postgres)."),
        };
    }

    /// <summary>
    /// The subject key ring of <paramref name="options"/>: its key store (the SQLite file <see cref="LedgerOptions.SubjectKeysPath"/>,
    /// or the table <c>subject_keys</c> of the PostgreSQL ledger), initialized, with the configured master keys.
    /// <paramref name="create"/> generates the development master key file when there is none.
    /// </summary>
    public static SubjectKeyRing OpenSubjectKeys(LedgerOptions options, bool create, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var master = MasterKeys.Load(options.Privacy, options.ResolvedMasterKeyPath, create);
        ISubjectKeyStore store = options.Provider == LedgerProvider.Postgres
            ? new PostgresSubjectKeyStore(RequireConnectionString(options))
            : new SqliteSubjectKeyStore(options.SubjectKeysPath);
        try
        {
            store.Initialize();
        }
        catch
        {
            store.Dispose();
            throw;
        }

        return new SubjectKeyRing(store, master, options.Privacy.DataKeyCacheTime, timeProvider);
    }

    /// <summary>Where the ledger of <paramref name="options"/> lives, for messages: the SQLite file or the PostgreSQL database, without credentials.</summary>
    public static string Describe(LedgerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Provider == LedgerProvider.Postgres
            ? PostgresLedgerStore.DescribeConnection(RequireConnectionString(options))
            : Path.GetFullPath(options.DatabasePath);
    }

    /// <summary>True when a ledger exists where <paramref name="options"/> point (commands that only read refuse to create one).</summary>
    public static async Task<bool> ExistsAsync(LedgerOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Provider != LedgerProvider.Postgres)
        {
            return File.Exists(options.DatabasePath);
        }

        await using var store = new PostgresLedgerStore(RequireConnectionString(options));
        return await store.ExistsAsync(cancellationToken);
    }

    private static string RequireConnectionString(LedgerOptions options) =>
        string.IsNullOrWhiteSpace(options.ConnectionString)
            ? throw new InvalidOperationException(
                $"{LedgerOptions.SectionName}:ConnectionString (env AuditStream__Ledger__ConnectionString) is required when {LedgerOptions.SectionName}:Provider is Postgres.")
            : options.ConnectionString;
}
