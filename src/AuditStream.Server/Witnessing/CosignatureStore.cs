using System.Text;
using AuditStream.Checkpoints;
using AuditStream.Ledger.Storage;
using AuditStream.Server.Hosting;

namespace AuditStream.Server.Witnessing;

/// <summary>
/// Keeps the cosignatures the witness client collects in the ledger store, with their checkpoint, and loads them back
/// into <see cref="CosignedCheckpoints"/>: at start, so a restarted server serves the cosigned checkpoint it had
/// collected, and on a follower while its witnessed checkpoint is behind the latest one, so every instance serves what
/// the leader collected. A loaded line counts only when it verifies with the configured witness's key.
/// </summary>
internal sealed partial class CosignatureStore(CosignedCheckpoints cosigned, IReadOnlyList<CosignatureVerifier> witnesses, LedgerService ledgers, ILogger logger)
{
    /// <summary>The largest cosigned checkpoints read per load (as many as <see cref="CosignedCheckpoints"/> keeps).</summary>
    internal const int LoadLimit = 16;

    /// <summary>Keeps <paramref name="witness"/>'s verified cosignature of <paramref name="checkpoint"/>; a failure is logged, never thrown.</summary>
    public async Task SaveAsync(StoredCheckpoint checkpoint, string witness, NoteSignature cosignature, CancellationToken cancellationToken)
    {
        try
        {
            await ledgers.Ledger.Store.SaveCosignatureAsync(new StoredCosignature(checkpoint.TreeSize, witness, cosignature.ToString()), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Served from memory all the same; only a restart or another instance would not have it.
            Log.SaveFailed(logger, witness, checkpoint.TreeSize, ex.Message);
        }
    }

    /// <summary>Loads the cosignatures of the largest kept checkpoints of tree size ≥ <paramref name="minTreeSize"/>.</summary>
    public async Task LoadAsync(long minTreeSize, CancellationToken cancellationToken)
    {
        foreach (var stored in await ledgers.Ledger.Store.ReadCosignedCheckpointsAsync(minTreeSize, LoadLimit, cancellationToken))
        {
            var text = new StringBuilder(stored.Checkpoint.SignedNote);
            foreach (var cosignature in stored.Cosignatures)
            {
                text.Append(cosignature.Line).Append('\n');
            }

            if (!SignedNote.TryParse(text.ToString(), out var note, out var error))
            {
                Log.Unreadable(logger, stored.Checkpoint.TreeSize, error);
                continue;
            }

            foreach (var witness in witnesses)
            {
                if (note.Signatures.FirstOrDefault(s => witness.Verify(note.Text, s, out _)) is { } signature)
                {
                    cosigned.Add(stored.Checkpoint, witness.Name, signature);
                }
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 704, EventName = "CosignatureNotKept", Level = LogLevel.Warning,
            Message = "The cosignature of witness {Witness} for the checkpoint at tree size {TreeSize} could not be kept in the ledger store (it is served from memory until a restart): {Reason}")]
        public static partial void SaveFailed(ILogger logger, string witness, long treeSize, string reason);

        [LoggerMessage(EventId = 705, EventName = "CosignaturesUnreadable", Level = LogLevel.Warning,
            Message = "The cosignatures kept for the checkpoint at tree size {TreeSize} do not form a signed note and are ignored: {Reason}")]
        public static partial void Unreadable(ILogger logger, long treeSize, string reason);

        [LoggerMessage(EventId = 706, EventName = "CosignaturesNotLoaded", Level = LogLevel.Warning,
            Message = "The cosignatures kept in the ledger store could not be read (retrying): {Reason}")]
        public static partial void LoadFailed(ILogger logger, string reason);
    }

    /// <summary>Logs a failed <see cref="LoadAsync"/>.</summary>
    public void LoadFailed(Exception ex) => Log.LoadFailed(logger, ex.Message);
}
