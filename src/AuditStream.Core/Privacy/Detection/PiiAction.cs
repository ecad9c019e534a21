namespace AuditStream.Privacy.Detection;

/// <summary>What ingest does with a value in which a detector found personal data.</summary>
public enum PiiAction
{
    /// <summary>Nothing: the detector does not run.</summary>
    Off,

    /// <summary>The request is refused with 400 naming the field and the detector (never the value).</summary>
    Reject,

    /// <summary>
    /// The whole value moves into <c>pii</c> under its JSON path (so it is encrypted under the subject's key) and the field
    /// keeps a placeholder such as <c>[pii:email]</c>. Without a <c>subject_id</c> the value is masked instead.
    /// </summary>
    Move,

    /// <summary>Each match is replaced in place by a placeholder such as <c>[pii:card]</c>.</summary>
    Mask,
}
