using System.Diagnostics.CodeAnalysis;

namespace AuditStream.Checkpoints;

/// <summary>The outcome of <see cref="SignedNote.Open"/>: the verified note, or why it was rejected.</summary>
public sealed class NoteOpenResult
{
    private NoteOpenResult(SignedNote? note, IReadOnlyList<NoteSignature> verifiedSignatures, NoteFailure? failure, string? error)
    {
        Note = note;
        VerifiedSignatures = verifiedSignatures;
        Failure = failure;
        Error = error;
    }

    /// <summary>True when at least one signature by a known key verified and none by a known key failed.</summary>
    [MemberNotNullWhen(true, nameof(Note), nameof(Text))]
    [MemberNotNullWhen(false, nameof(Failure), nameof(Error), nameof(ErrorCode))]
    public bool Succeeded => Failure is null;

    /// <summary>The parsed note when it verified; null otherwise (an unverified note's text must not be trusted).</summary>
    public SignedNote? Note { get; }

    /// <summary>The verified note text, final newline included; null on failure.</summary>
    public string? Text => Note?.Text;

    /// <summary>The signatures by known keys that verified (each key once); empty on failure.</summary>
    public IReadOnlyList<NoteSignature> VerifiedSignatures { get; }

    /// <summary>Why the note was rejected; null on success.</summary>
    public NoteFailure? Failure { get; }

    /// <summary>The snake_case code of <see cref="Failure"/> (<c>malformed</c>, <c>unknown_key</c>, <c>bad_signature</c>); null on success.</summary>
    public string? ErrorCode => Failure is { } failure ? NoteFailureCode.Of(failure) : null;

    /// <summary>A sentence saying what is wrong, for logs and operators; null on success.</summary>
    public string? Error { get; }

    internal static NoteOpenResult Verified(SignedNote note, IReadOnlyList<NoteSignature> verifiedSignatures) =>
        new(note, verifiedSignatures, failure: null, error: null);

    internal static NoteOpenResult Rejected(NoteFailure failure, string error) =>
        new(note: null, [], failure, error);

    /// <inheritdoc />
    public override string ToString() => Succeeded
        ? $"verified by {string.Join(", ", VerifiedSignatures.Select(s => s.Key))}"
        : $"{ErrorCode}: {Error}";
}
