using System.Diagnostics.CodeAnalysis;

namespace AuditStream.Checkpoints;

/// <summary>The outcome of <see cref="CheckpointVerifier.Open"/>: a verified checkpoint, or why it was rejected.</summary>
public sealed class CheckpointOpenResult
{
    private CheckpointOpenResult(Checkpoint? checkpoint, SignedNote? note, NoteFailure? failure, string? error)
    {
        Checkpoint = checkpoint;
        Note = note;
        Failure = failure;
        Error = error;
    }

    /// <summary>True when the note verified against a trusted key and holds a checkpoint for the expected origin.</summary>
    [MemberNotNullWhen(true, nameof(Checkpoint), nameof(Note))]
    [MemberNotNullWhen(false, nameof(Failure), nameof(Error), nameof(ErrorCode))]
    public bool Succeeded => Failure is null;

    /// <summary>The verified checkpoint; null on failure.</summary>
    public Checkpoint? Checkpoint { get; }

    /// <summary>The verified signed note (with every signature, e.g. witness cosignatures); null on failure.</summary>
    public SignedNote? Note { get; }

    /// <summary>Why the checkpoint was rejected; null on success.</summary>
    public NoteFailure? Failure { get; }

    /// <summary>The snake_case code of <see cref="Failure"/> (<c>malformed</c>, <c>unknown_key</c>, <c>bad_signature</c>, <c>wrong_origin</c>); null on success.</summary>
    public string? ErrorCode => Failure is { } failure ? NoteFailureCode.Of(failure) : null;

    /// <summary>A sentence saying what is wrong, for logs and operators; null on success.</summary>
    public string? Error { get; }

    internal static CheckpointOpenResult Verified(Checkpoint checkpoint, SignedNote note) => new(checkpoint, note, failure: null, error: null);

    internal static CheckpointOpenResult Rejected(NoteFailure failure, string error) => new(checkpoint: null, note: null, failure, error);

    /// <inheritdoc />
    public override string ToString() => Succeeded ? $"verified {Checkpoint}" : $"{ErrorCode}: {Error}";
}
