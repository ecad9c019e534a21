using AuditStream.Checkpoints;

namespace AuditStream.Client.Verification;

/// <summary>The outcome of checking that a receipt's event is in the log that a trusted key signed.</summary>
/// <param name="IsValid">True when the proof leads from the receipt's hash to the root of a checkpoint the pinned key signed.</param>
/// <param name="Failure">Why not, when <paramref name="IsValid"/> is false.</param>
/// <param name="Checkpoint">The verified checkpoint the proof was checked against (null when the checkpoint itself failed).</param>
public sealed record InclusionVerification(bool IsValid, string? Failure, Checkpoint? Checkpoint)
{
    internal static InclusionVerification Fail(string failure, Checkpoint? checkpoint = null) => new(false, failure, checkpoint);
}
