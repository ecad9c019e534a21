using AuditStream.Ledger.Storage;

namespace AuditStream.Ledger.Writing;

/// <summary>How an append request ended.</summary>
public enum AppendStatus
{
    /// <summary>Every event is durably in the ledger (new or an earlier record with the same id and content).</summary>
    Committed,

    /// <summary>The writer's queue is full; nothing was written. Retry after a short delay.</summary>
    LedgerBusy,

    /// <summary>The ledger is shutting down; nothing was written.</summary>
    LedgerClosed,

    /// <summary>
    /// At least one event reuses an id already committed in its tenant with different content (see
    /// <see cref="AppendResult.Conflicts"/>); nothing of the request was written.
    /// </summary>
    IdConflict,
}

/// <summary>One event of a committed request: its receipt, and whether the id was already in the ledger.</summary>
/// <param name="Receipt">Where the event is (for a duplicate: the original record).</param>
/// <param name="WasDuplicate">True when the id was committed before and this request wrote nothing for it.</param>
public readonly record struct AppendedEvent(AppendReceipt Receipt, bool WasDuplicate);

/// <summary>An event of a refused request whose id is already committed in its tenant with other content.</summary>
/// <param name="Index">Its index in the request.</param>
/// <param name="Existing">The receipt of the committed event with that tenant and id; null when the id clashes with an event of the same request or of a request being committed with it.</param>
public readonly record struct IdConflict(int Index, AppendReceipt? Existing);

/// <summary>The outcome of <c>LedgerWriter.AppendAsync</c>: a status and, when committed, one entry per event in request order.</summary>
public sealed record AppendResult(AppendStatus Status, IReadOnlyList<AppendedEvent> Events)
{
    internal static readonly AppendResult Busy = new(AppendStatus.LedgerBusy, []);
    internal static readonly AppendResult Closed = new(AppendStatus.LedgerClosed, []);

    /// <summary>With <see cref="AppendStatus.IdConflict"/>: every event of the request whose id conflicts, in request order.</summary>
    public IReadOnlyList<IdConflict> Conflicts { get; init; } = [];
}
