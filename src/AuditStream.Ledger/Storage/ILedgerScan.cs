namespace AuditStream.Ledger.Storage;

/// <summary>Receives stored rows as spans that are valid only during the call (no copy, no record object).</summary>
internal interface IStoredRowVisitor
{
    /// <summary>One stored row in seq order; returns false to stop the scan.</summary>
    bool Row(long seq, ReadOnlySpan<byte> hash, ReadOnlySpan<byte> body);
}

/// <summary>
/// A store that can hand rows to a visitor straight from its own buffers: the verifier reads millions of rows, and
/// the copies and objects of <see cref="ILedgerStore.ReadRangeAsync"/> were a large part of its cost.
/// </summary>
internal interface ILedgerScan
{
    /// <summary>The largest stored seq (0 when empty), read without the writer: verification runs beside a live server.</summary>
    Task<long> ReadLastSeqAsync(CancellationToken cancellationToken);

    /// <summary>Visits the stored rows with <paramref name="fromSeq"/> ≤ seq ≤ <paramref name="toSeq"/> in seq order.</summary>
    ValueTask ScanAsync(long fromSeq, long toSeq, IStoredRowVisitor visitor, CancellationToken cancellationToken);
}
