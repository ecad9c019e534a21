using AuditStream.Events;
using AuditStream.Ledger;
using AuditStream.Ledger.Cluster;
using AuditStream.Ledger.Feed;
using AuditStream.Server.Cluster;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Hosting;

/// <summary>
/// Opens the ledger when the host starts and drains and closes it (final checkpoint included) when it stops. With
/// PostgreSQL the instance joins the cluster (<see cref="ClusterOptions"/>), woken by the registered
/// <see cref="BackplaneSignal"/> (a Redis backplane) or, when none is, by PostgreSQL LISTEN/NOTIFY.
/// </summary>
internal sealed class LedgerService(
    IOptions<LedgerOptions> ledgerOptions,
    IOptions<ClusterOptions> clusterOptions,
    EventPreparer preparer,
    TimeProvider timeProvider,
    ILoggerFactory loggerFactory,
    LedgerMetrics metrics,
    LedgerStoreDecorator? storeDecorator = null,
    BackplaneSignal? backplane = null) : IHostedService, IAsyncDisposable
{
    /// <summary>The HKDF purpose of the forwarding key derived from the signing key.</summary>
    private const string ForwardingKeyPurpose = "auditstream cluster forwarding v1";

    private AuditLedger? _ledger;
    private ClusterCredential? _credential;

    public AuditLedger Ledger => _ledger ?? throw new InvalidOperationException("The ledger is not open yet.");

    public bool IsOpen => _ledger is not null;

    /// <summary>What authenticates appends forwarded between this cluster's instances.</summary>
    public ClusterCredential Credential => _credential ?? throw new InvalidOperationException("The ledger is not open yet.");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var cluster = clusterOptions.Value;
        var ledger = await AuditLedger.OpenAsync(
            ledgerOptions.Value, preparer, timeProvider, loggerFactory, storeDecorator?.Decorate, metrics, cluster, backplane is null ? null : backplane.Create, cancellationToken);
        var key = cluster.Secret is { } secret ? Convert.FromBase64String(secret) : ledger.DeriveKey(ForwardingKeyPurpose);
        _credential = new ClusterCredential(key, timeProvider);
        _ledger = ledger;
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        var ledger = Interlocked.Exchange(ref _ledger, null);
        if (ledger is not null)
        {
            await ledger.DisposeAsync();
        }
    }
}

/// <summary>Wraps the ledger store the server opens (registered by tests for fault injection).</summary>
/// <param name="Decorate">Returns the store to use in place of the given one.</param>
internal sealed record LedgerStoreDecorator(Func<AuditStream.Ledger.Storage.ILedgerStore, AuditStream.Ledger.Storage.ILedgerStore> Decorate);
