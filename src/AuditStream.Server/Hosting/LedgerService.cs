using AuditStream.Events;
using AuditStream.Ledger;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Hosting;

/// <summary>Opens the ledger when the host starts and drains and closes it (final checkpoint included) when it stops.</summary>
internal sealed class LedgerService(
    IOptions<LedgerOptions> ledgerOptions,
    EventPreparer preparer,
    TimeProvider timeProvider,
    ILoggerFactory loggerFactory,
    LedgerMetrics metrics,
    LedgerStoreDecorator? storeDecorator = null) : IHostedService, IAsyncDisposable
{
    private AuditLedger? _ledger;

    public AuditLedger Ledger => _ledger ?? throw new InvalidOperationException("The ledger is not open yet.");

    public bool IsOpen => _ledger is not null;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _ledger = await AuditLedger.OpenAsync(ledgerOptions.Value, preparer, timeProvider, loggerFactory, storeDecorator?.Decorate, metrics, cancellationToken);
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
