namespace AuditStream.Checkpoints;

/// <summary>The snake_case codes of <see cref="NoteFailure"/> used in logs, ProblemDetails and <c>audit.error</c>.</summary>
internal static class NoteFailureCode
{
    public static string Of(NoteFailure failure) => failure switch
    {
        NoteFailure.Malformed => "malformed",
        NoteFailure.UnknownKey => "unknown_key",
        NoteFailure.BadSignature => "bad_signature",
        NoteFailure.WrongOrigin => "wrong_origin",
        _ => throw new ArgumentOutOfRangeException(nameof(failure), failure, null),
    };
}
