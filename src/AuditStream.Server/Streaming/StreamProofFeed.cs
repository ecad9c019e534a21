using AuditStream.Ledger.Storage;
using AuditStream.Server.Hosting;
using AuditStream.Server.Witnessing;
using AuditStream.Streaming.Proofs;

namespace AuditStream.Server.Streaming;

/// <summary>
/// Feeds the stream's <see cref="StreamProofs"/> with checkpoints (docs/stream-proofs.md): each new signed checkpoint, or,
/// when witnesses are configured, each checkpoint once the quorum has cosigned it (with the cosignatures), so a reader
/// with a witness policy can accept every checkpoint the stream sends.
/// </summary>
internal sealed class StreamProofFeed(LedgerService ledgers, CheckpointWitnessing witnessing, StreamProofs proofs) : IHostedService
{
    /// <summary>Registers the proof service and this feed; call after the ledger and witnessing, so it starts after them.</summary>
    public static void Register(IServiceCollection services)
    {
        services.AddSingleton(sp => new StreamProofs(
            async (seq, treeSize, cancellationToken) => (await sp.GetRequiredService<LedgerService>().Ledger.Proofs.InclusionAsync(seq, treeSize, cancellationToken)).Path,
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<AuditStream.Streaming.Hub.HubOptions>>().Value,
            sp.GetRequiredService<ILogger<StreamProofs>>()));
        services.AddHostedService<StreamProofFeed>();
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (witnessing.Enabled)
        {
            witnessing.Cosigned.Witnessed += OnWitnessed;
            if (witnessing.Cosigned.LatestWitnessed is { } note)
            {
                proofs.Publish(witnessing.Cosigned.WitnessedSize, note);
            }
        }
        else
        {
            var checkpoints = ledgers.Ledger.Checkpoints;
            checkpoints.Published += OnPublished;
            if (checkpoints.Latest is { } latest)
            {
                OnPublished(latest);
            }
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        witnessing.Cosigned.Witnessed -= OnWitnessed;
        if (ledgers.IsOpen)
        {
            ledgers.Ledger.Checkpoints.Published -= OnPublished;
        }

        // Stopped before the ledger (hosted services stop in reverse order), so no proof is read from a closed ledger.
        await proofs.StopAsync();
    }

    private void OnPublished(StoredCheckpoint checkpoint) => proofs.Publish(checkpoint.TreeSize, checkpoint.SignedNote);

    private void OnWitnessed(StoredCheckpoint checkpoint, string cosigned) => proofs.Publish(checkpoint.TreeSize, cosigned);
}
