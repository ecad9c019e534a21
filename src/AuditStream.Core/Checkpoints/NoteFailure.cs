namespace AuditStream.Checkpoints;

/// <summary>Why a signed note or checkpoint was rejected; an expected outcome for untrusted input, not a bug.</summary>
public enum NoteFailure
{
    /// <summary>Not a well-formed signed note (or checkpoint body). Code <c>malformed</c>.</summary>
    Malformed = 1,

    /// <summary>Well formed, but no signature is by a known key. Code <c>unknown_key</c>.</summary>
    UnknownKey = 2,

    /// <summary>A signature by a known key does not verify: the text or signature was altered. Code <c>bad_signature</c>.</summary>
    BadSignature = 3,

    /// <summary>A verified checkpoint for another log than the one expected. Code <c>wrong_origin</c>.</summary>
    WrongOrigin = 4,
}
