namespace AuditStream.Canonical;

/// <summary>The ledger writer's per-event work: splice the ledger fields into a <see cref="PreparedEvent"/> and hash (DESIGN.md §3).</summary>
public static class ChainStep
{
    /// <summary>Upper bound of the bytes the ledger fields add to a prepared event.</summary>
    public const int LedgerFieldsMaxLength = 160;

    /// <summary>Writes the full canonical body (event without <c>hash</c>) for the given ledger fields; returns its length.</summary>
    public static int WriteBody(PreparedEvent prepared, ReadOnlySpan<byte> prevHash, long seq, long timestampMicros, Span<byte> destination)
        => throw new NotImplementedException();

    /// <summary><c>hash = SHA-256(prev_hash ‖ body)</c>.</summary>
    public static void ComputeHash(ReadOnlySpan<byte> prevHash, ReadOnlySpan<byte> body, Span<byte> hash)
        => throw new NotImplementedException();
}
