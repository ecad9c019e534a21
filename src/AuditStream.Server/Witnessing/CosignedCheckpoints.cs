using System.Collections.Concurrent;
using System.Text;
using AuditStream.Checkpoints;
using AuditStream.Ledger.Storage;

namespace AuditStream.Server.Witnessing;

/// <summary>
/// The cosignatures collected per checkpoint (by tree size, root checked), and the latest checkpoint that reached the
/// quorum. A cosigned checkpoint is the server's signed note with each witness's <c>cosignature/v1</c> line appended
/// (c2sp.org/tlog-cosignature: cosignatures are plain signed-note signature lines), so readers that do not know a
/// witness's key ignore its line.
/// </summary>
internal sealed class CosignedCheckpoints(int quorum)
{
    /// <summary>Sizes kept besides the latest witnessed one; older ones are dropped as newer checkpoints arrive.</summary>
    private const int Kept = 16;

    private readonly ConcurrentDictionary<long, Entry> _entries = new();
    private Entry? _witnessed;

    public int Quorum { get; } = quorum;

    /// <summary>The tree size of the latest checkpoint cosigned by at least <see cref="Quorum"/> witnesses, or 0.</summary>
    public long WitnessedSize => Volatile.Read(ref _witnessed)?.Checkpoint.TreeSize ?? 0;

    /// <summary>The latest checkpoint that reached the quorum, with its cosignatures; null before the first.</summary>
    public string? LatestWitnessed => Volatile.Read(ref _witnessed)?.Format();

    /// <summary>Raised when a checkpoint larger than any before first reaches the quorum, with its cosigned note.</summary>
    public event Action<StoredCheckpoint, string>? Witnessed;

    /// <summary>Records <paramref name="witness"/>'s verified cosignature of <paramref name="checkpoint"/>.</summary>
    public void Add(StoredCheckpoint checkpoint, string witness, NoteSignature cosignature)
    {
        var entry = _entries.GetOrAdd(checkpoint.TreeSize, _ => new Entry(checkpoint));
        if (!entry.Checkpoint.RootHash.AsSpan().SequenceEqual(checkpoint.RootHash))
        {
            // A second root for one size cannot come from this ledger; keep the first, never overwrite it.
            return;
        }

        entry.Cosignatures[witness] = cosignature;
        if (entry.Cosignatures.Count >= Quorum)
        {
            Entry? current;
            var advanced = false;
            do
            {
                current = Volatile.Read(ref _witnessed);
                if (current is not null && current.Checkpoint.TreeSize >= entry.Checkpoint.TreeSize)
                {
                    break;
                }

                advanced = Interlocked.CompareExchange(ref _witnessed, entry, current) == current;
            }
            while (!advanced);

            if (advanced)
            {
                Witnessed?.Invoke(entry.Checkpoint, entry.Format());
            }
        }

        Prune();
    }

    /// <summary><paramref name="checkpoint"/>'s signed note with the cosignatures collected for it so far.</summary>
    public string Decorate(StoredCheckpoint checkpoint) =>
        _entries.TryGetValue(checkpoint.TreeSize, out var entry) && entry.Checkpoint.RootHash.AsSpan().SequenceEqual(checkpoint.RootHash)
            ? entry.Format()
            : checkpoint.SignedNote;

    private void Prune()
    {
        if (_entries.Count <= Kept)
        {
            return;
        }

        var witnessed = WitnessedSize;
        foreach (var size in _entries.Keys.Order().Take(_entries.Count - Kept))
        {
            if (size != witnessed)
            {
                _entries.TryRemove(size, out _);
            }
        }
    }

    private sealed class Entry(StoredCheckpoint checkpoint)
    {
        public StoredCheckpoint Checkpoint { get; } = checkpoint;

        public ConcurrentDictionary<string, NoteSignature> Cosignatures { get; } = new(StringComparer.Ordinal);

        public string Format()
        {
            var note = new StringBuilder(Checkpoint.SignedNote);
            foreach (var (_, signature) in Cosignatures.OrderBy(c => c.Key, StringComparer.Ordinal))
            {
                note.Append(signature).Append('\n');
            }

            return note.ToString();
        }
    }
}
