using AuditStream.Events;

namespace AuditStream.Canonical;

/// <summary>
/// An event that passed validation and classification, canonicalized on the producer's thread so that the ledger
/// writer only has to splice in <c>prev_hash</c>, <c>seq</c> and <c>timestamp</c> and hash (DESIGN.md §4).
/// </summary>
/// <remarks>
/// RFC 8785 sorts members by key, and the three ledger-set keys fall at fixed places among the event's keys:
/// <c>…"pii"</c> &lt; <c>"prev_hash"</c> &lt; <c>"seq"</c> &lt; <c>"severity"…"tenant_id"</c> &lt; <c>"timestamp"</c> &lt; <c>"type"</c>.
/// So <see cref="Canonical"/> is <c>Head | Mid | Tail</c> where Head is <c>{</c> plus every member before
/// <c>prev_hash</c> each followed by a comma, Mid every member between <c>seq</c> and <c>timestamp</c> each followed by
/// a comma, and Tail the <c>type</c> member and the closing brace.
/// </remarks>
public sealed class PreparedEvent
{
    /// <summary>Creates a prepared event; see the remarks of the type for the layout of <paramref name="canonical"/>.</summary>
    public PreparedEvent(AuditEvent @event, bool idSuppliedByProducer, byte[] canonical, int midStart, int tailStart)
        : this(@event, idSuppliedByProducer, canonical, midStart, tailStart, default)
    {
    }

    /// <summary>
    /// Creates a prepared event whose <c>compliance</c> member (with its trailing comma) spans
    /// <paramref name="compliance"/> of <paramref name="canonical"/>; an empty range when it has none.
    /// </summary>
    public PreparedEvent(AuditEvent @event, bool idSuppliedByProducer, byte[] canonical, int midStart, int tailStart, Range compliance)
    {
        ArgumentNullException.ThrowIfNull(@event);
        ArgumentNullException.ThrowIfNull(canonical);
        if (@event.Id is null)
        {
            throw new ArgumentException("A prepared event must have an id.", nameof(@event));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(midStart, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(tailStart, midStart);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tailStart, canonical.Length - 1);
        Event = @event;
        Id = @event.Id.Value;
        IdSuppliedByProducer = idSuppliedByProducer;
        Canonical = canonical;
        MidStart = midStart;
        TailStart = tailStart;
        var (complianceStart, complianceLength) = compliance.GetOffsetAndLength(midStart);
        Compliance = new Range(complianceStart, complianceStart + complianceLength);
    }

    /// <summary>The validated, classified event (id and tenant set; ledger fields unset).</summary>
    public AuditEvent Event { get; }

    /// <summary>The idempotency key.</summary>
    public Guid Id { get; }

    /// <summary>False when the id was generated here, so it cannot already be in the ledger.</summary>
    public bool IdSuppliedByProducer { get; }

    /// <summary>Head | Mid | Tail canonical bytes (see remarks).</summary>
    public byte[] Canonical { get; }

    /// <summary>Offset of Mid in <see cref="Canonical"/>.</summary>
    public int MidStart { get; }

    /// <summary>Offset of Tail in <see cref="Canonical"/>.</summary>
    public int TailStart { get; }

    /// <summary>
    /// Where the classifier's <c>compliance</c> member and its comma lie in the Head of <see cref="Canonical"/> (empty
    /// when untagged): idempotency compares what the producer sent, so a re-sent event is the same event even after the
    /// classification rules changed.
    /// </summary>
    public Range Compliance { get; }

    /// <summary>Serialized size of the canonical body once the ledger fields are added (an upper bound).</summary>
    public int MaxBodyLength => Canonical.Length + ChainStep.LedgerFieldsMaxLength;
}
