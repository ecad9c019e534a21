using System.Security.Cryptography;
using AuditStream.Events;

namespace AuditStream.Canonical;

/// <summary>The ledger writer's per-event work: splice the ledger fields into a <see cref="PreparedEvent"/> and hash (DESIGN.md §3).</summary>
/// <remarks>Both steps are allocation-free so the single writer thread creates no garbage per event.</remarks>
public static class ChainStep
{
    /// <summary>Length of a SHA-256 hash in bytes.</summary>
    public const int HashLength = 32;

    /// <summary>
    /// Upper bound of the bytes the ledger fields add to a prepared event:
    /// <c>"prev_hash":"</c> + 64 hex + <c>","seq":</c> + 16 digits + <c>,</c> + <c>"timestamp":"</c> + 27 + <c>",</c>.
    /// </summary>
    public const int LedgerFieldsMaxLength = 144;

    /// <summary>
    /// Largest <c>seq</c> a body can carry, 2^53 − 1: RFC 8785 §3.2.2.3 reads JSON numbers as IEEE-754 doubles, so a
    /// larger integer would not survive re-canonicalization by an independent verifier.
    /// </summary>
    public const long MaxSeq = 9_007_199_254_740_991;

    private const int MaxSeqDigits = 16;

    [ThreadStatic]
    private static IncrementalHash? s_sha256;

    /// <summary>The <c>prev_hash</c> of the first event (seq 1): 32 zero bytes. A read-only view; copy it with <c>ToArray()</c> when an array is needed.</summary>
    public static ReadOnlySpan<byte> GenesisPrevHash =>
    [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];

    /// <summary>Writes the full canonical body (event without <c>hash</c>) for the given ledger fields; returns its length.</summary>
    /// <param name="prepared">The event as canonicalized by <see cref="EventCanonicalizer.Prepare"/>.</param>
    /// <param name="prevHash">The previous event's 32-byte hash, or <see cref="GenesisPrevHash"/> for seq 1.</param>
    /// <param name="seq">The ledger position, from 1 to <see cref="MaxSeq"/>.</param>
    /// <param name="timestampMicros">Commit time, microseconds since the Unix epoch (years 0001-9999).</param>
    /// <param name="destination">At least <see cref="PreparedEvent.MaxBodyLength"/> bytes.</param>
    public static int WriteBody(PreparedEvent prepared, ReadOnlySpan<byte> prevHash, long seq, long timestampMicros, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        if (prevHash.Length != HashLength)
        {
            throw new ArgumentException($"prev_hash must be {HashLength} bytes.", nameof(prevHash));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(seq, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(seq, MaxSeq);
        var canonical = prepared.Canonical.AsSpan();
        var head = canonical[..prepared.MidStart];
        var mid = canonical[prepared.MidStart..prepared.TailStart];
        var tail = canonical[prepared.TailStart..];
        if (destination.Length < canonical.Length + LedgerFieldsMaxLength)
        {
            throw new ArgumentException($"The destination must hold at least {canonical.Length + LedgerFieldsMaxLength} bytes (PreparedEvent.MaxBodyLength).", nameof(destination));
        }

        var pos = Append(destination, 0, head);
        pos = Append(destination, pos, "\"prev_hash\":\""u8);
        Convert.TryToHexStringLower(prevHash, destination[pos..], out var hexLength);
        pos += hexLength;
        pos = Append(destination, pos, "\",\"seq\":"u8);
        seq.TryFormat(destination.Slice(pos, MaxSeqDigits), out var seqLength, default, provider: null);
        pos += seqLength;
        destination[pos++] = (byte)',';
        pos = Append(destination, pos, mid);
        pos = Append(destination, pos, "\"timestamp\":\""u8);
        pos += Timestamps.WriteMicros(timestampMicros, destination[pos..]);
        pos = Append(destination, pos, "\","u8);
        return Append(destination, pos, tail);
    }

    /// <summary><c>hash = SHA-256(prev_hash ‖ body)</c>.</summary>
    /// <param name="prevHash">The previous event's 32-byte hash.</param>
    /// <param name="body">The canonical body written by <see cref="WriteBody"/>.</param>
    /// <param name="hash">Receives the 32-byte hash.</param>
    public static void ComputeHash(ReadOnlySpan<byte> prevHash, ReadOnlySpan<byte> body, Span<byte> hash)
    {
        if (prevHash.Length != HashLength)
        {
            throw new ArgumentException($"prev_hash must be {HashLength} bytes.", nameof(prevHash));
        }

        if (hash.Length < HashLength)
        {
            throw new ArgumentException($"The hash destination must hold {HashLength} bytes.", nameof(hash));
        }

        var sha256 = s_sha256 ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha256.AppendData(prevHash);
        sha256.AppendData(body);
        sha256.GetHashAndReset(hash);
    }

    private static int Append(Span<byte> destination, int pos, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(destination[pos..]);
        return pos + bytes.Length;
    }
}
