namespace AuditStream.Checkpoints;

/// <summary>
/// Opens signed checkpoints of one log: checks the note against the trusted keys, parses the checkpoint and
/// checks it names the expected origin.
/// </summary>
public sealed class CheckpointVerifier
{
    private readonly Dictionary<(string Name, uint KeyId), NoteVerifier> _verifiers;

    /// <summary>Trusts <paramref name="verifiers"/> for checkpoints of the log named <paramref name="origin"/>.</summary>
    /// <exception cref="ArgumentException">No verifier is given, or two different ones share a name and key ID.</exception>
    public CheckpointVerifier(string origin, params ReadOnlySpan<NoteVerifier> verifiers)
    {
        ArgumentException.ThrowIfNullOrEmpty(origin);
        if (verifiers.IsEmpty)
        {
            throw new ArgumentException("At least one trusted verifier key is required.", nameof(verifiers));
        }

        Origin = origin;
        _verifiers = SignedNote.IndexVerifiers(verifiers);
    }

    /// <summary>Trusts one verifier key for the log whose origin is that key's name.</summary>
    public CheckpointVerifier(NoteVerifier verifier)
        : this((verifier ?? throw new ArgumentNullException(nameof(verifier))).Name, verifier)
    {
    }

    /// <summary>The origin checkpoints must carry.</summary>
    public string Origin { get; }

    /// <summary>
    /// Verifies <paramref name="signedCheckpoint"/> and parses its checkpoint. Never throws for bad input:
    /// the result says <c>malformed</c>, <c>unknown_key</c>, <c>bad_signature</c> or <c>wrong_origin</c>.
    /// </summary>
    public CheckpointOpenResult Open(string signedCheckpoint)
    {
        var opened = SignedNote.OpenIndexed(signedCheckpoint, _verifiers);
        if (!opened.Succeeded)
        {
            return CheckpointOpenResult.Rejected(opened.Failure.Value, opened.Error);
        }

        if (!Checkpoint.TryParse(opened.Text, out var checkpoint, out var error))
        {
            return CheckpointOpenResult.Rejected(NoteFailure.Malformed, $"the signed text is not a checkpoint: {error}");
        }

        if (!string.Equals(checkpoint.Origin, Origin, StringComparison.Ordinal))
        {
            return CheckpointOpenResult.Rejected(
                NoteFailure.WrongOrigin,
                $"the checkpoint is for origin '{checkpoint.Origin}', expected '{Origin}'");
        }

        return CheckpointOpenResult.Verified(checkpoint, opened.Note);
    }
}
