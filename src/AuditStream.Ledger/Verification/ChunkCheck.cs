using System.Buffers;
using System.Security.Cryptography;
using AuditStream.Ledger.Proofs;
using AuditStream.Ledger.Storage;
using AuditStream.Merkle;

namespace AuditStream.Ledger.Verification;

/// <summary>
/// Checks one aligned chunk of seqs on a worker thread: each event's hash input is its stored predecessor's hash and
/// its own body, so chunks are independent once the row before the chunk is read with it. Finds the chunk's first
/// broken row (in the same order of checks as a sequential walk), its Merkle leaves and, for a full chunk, its tile
/// roots. The chain across chunks and the tree are joined in seq order by <see cref="LedgerVerifier"/>.
/// </summary>
internal sealed class ChunkCheck : IStoredRowVisitor, IDisposable
{
    public const int Size = 4096;

    private readonly byte[] _prev = new byte[MerkleHash.Size];
    private readonly byte[] _first = new byte[MerkleHash.Size];
    private readonly byte[] _input = new byte[4096];
    private readonly byte[] _scratch = new byte[MerkleFrontier.TileLeaves * MerkleHash.Size];
    private byte[] _buffer = [];
    private bool _started;

    /// <summary>The first seq of the chunk.</summary>
    public long FirstSeq { get; private set; }

    /// <summary>Seqs the chunk should hold (fewer in the ledger's last chunk).</summary>
    public int Expected { get; private set; }

    /// <summary>Rows that passed every check, from <see cref="FirstSeq"/> on.</summary>
    public int Count { get; private set; }

    /// <summary>Whether the row before the chunk was read (always true for the first chunk).</summary>
    public bool HasPredecessor { get; private set; }

    /// <summary>The stored hash of the row before the chunk.</summary>
    public ReadOnlySpan<byte> PredecessorHash => _first;

    /// <summary>The stored hash of the last row that passed.</summary>
    public ReadOnlySpan<byte> LastHash => _prev;

    /// <summary>What is wrong at seq <see cref="FirstSeq"/> + <see cref="Count"/>, or <see cref="TamperKind.None"/>.</summary>
    public TamperKind Failure { get; private set; }

    public string? FailureMessage { get; private set; }

    /// <summary>Merkle leaf hashes of the rows that passed (their stored hashes while the scan runs).</summary>
    public ReadOnlySpan<byte> Leaves => _buffer.AsSpan(0, Count * MerkleHash.Size);

    /// <summary>Roots of the chunk's 256-leaf tiles, when every row of a full chunk passed.</summary>
    public ReadOnlySpan<byte> TileRoots => _buffer.AsSpan(Size * MerkleHash.Size, Size / MerkleFrontier.TileLeaves * MerkleHash.Size);

    public bool IsComplete => Failure == TamperKind.None && Count == Size;

    public async Task<ChunkCheck> RunAsync(ILedgerStore store, long firstSeq, int expected, CancellationToken cancellationToken)
    {
        FirstSeq = firstSeq;
        Expected = expected;
        Count = 0;
        Failure = TamperKind.None;
        FailureMessage = null;
        _started = false;
        HasPredecessor = firstSeq == 1;
        Array.Clear(_prev);
        Array.Clear(_first);
        if (_buffer.Length == 0)
        {
            _buffer = ArrayPool<byte>.Shared.Rent((Size + (Size / MerkleFrontier.TileLeaves)) * MerkleHash.Size);
        }

        var from = firstSeq == 1 ? 1 : firstSeq - 1;
        var to = firstSeq + expected - 1;
        if (store is ILedgerScan scan)
        {
            await scan.ScanAsync(from, to, this, cancellationToken);
        }
        else
        {
            await foreach (var record in store.ReadRangeAsync(from, to, cancellationToken))
            {
                if (!Row(record.Seq, record.Hash, record.Body))
                {
                    break;
                }
            }
        }

        // The rows left their stored hashes in the leaf slots; all of them become leaves at once.
        MerkleHashes8.Leaves(Leaves, _buffer);
        if (Failure == TamperKind.None && Count == Size)
        {
            MerkleFrontier.HashTiles(Leaves, _buffer.AsSpan(Size * MerkleHash.Size), _scratch);
        }

        return this;
    }

    /// <inheritdoc />
    public bool Row(long seq, ReadOnlySpan<byte> hash, ReadOnlySpan<byte> body)
    {
        if (!_started)
        {
            _started = true;
            if (FirstSeq > 1 && seq == FirstSeq - 1)
            {
                HasPredecessor = hash.Length == MerkleHash.Size;
                if (HasPredecessor)
                {
                    hash.CopyTo(_prev);
                    hash.CopyTo(_first);
                }

                return true;
            }
        }

        var expected = FirstSeq + Count;
        if (seq != expected)
        {
            return Fail(TamperKind.Missing, $"seq {expected} is missing (the next stored seq is {seq})");
        }

        Span<byte> bodyPrev = stackalloc byte[MerkleHash.Size];
        if (!BodyFields.TryRead(body, out var bodySeq, bodyPrev) || bodySeq != seq)
        {
            return Fail(TamperKind.Reordered, $"the event stored at seq {seq} says it is seq {bodySeq}: rows were moved");
        }

        var chains = bodyPrev.SequenceEqual(_prev);
        if (!chains || !HashMatches(hash, body))
        {
            return Fail(chains ? TamperKind.Modified : TamperKind.Reordered, chains
                ? $"the hash of seq {seq} does not match its content: the event was modified"
                : $"seq {seq} does not chain from seq {seq - 1}: rows were moved or replaced");
        }

        hash.CopyTo(_prev);
        hash.CopyTo(_buffer.AsSpan(Count * MerkleHash.Size, MerkleHash.Size));
        Count++;
        return true;
    }

    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }

    // hash = SHA-256(prev_hash ‖ body) (DESIGN.md §3), in one call over a reused buffer.
    private bool HashMatches(ReadOnlySpan<byte> hash, ReadOnlySpan<byte> body)
    {
        if (hash.Length != MerkleHash.Size)
        {
            return false;
        }

        Span<byte> computed = stackalloc byte[MerkleHash.Size];
        var length = MerkleHash.Size + body.Length;
        if (length <= _input.Length)
        {
            _prev.CopyTo(_input, 0);
            body.CopyTo(_input.AsSpan(MerkleHash.Size));
            SHA256.HashData(_input.AsSpan(0, length), computed);
        }
        else
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            sha.AppendData(_prev);
            sha.AppendData(body);
            sha.GetHashAndReset(computed);
        }

        return computed.SequenceEqual(hash);
    }

    private bool Fail(TamperKind kind, string message)
    {
        Failure = kind;
        FailureMessage = message;
        return false;
    }
}
