using AuditStream.Events;

namespace AuditStream.Ledger.Storage;

/// <summary>A page of query results and where the next page starts.</summary>
/// <param name="Records">Matching records in seq order.</param>
/// <param name="ScannedThroughSeq">Every seq up to this one was examined; the next page asks for seq &gt; this. Null when the range is exhausted.</param>
public sealed record QueryPage(IReadOnlyList<LedgerRecord> Records, long? ScannedThroughSeq);
