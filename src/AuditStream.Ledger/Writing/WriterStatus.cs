namespace AuditStream.Ledger.Writing;

/// <summary>The writer's state as health probes see it.</summary>
/// <param name="Running">False when the loop has ended (stopped, or failed beyond recovery).</param>
/// <param name="CommitRunningFor">How long the commit in progress has taken; null when the writer is idle.</param>
/// <param name="LastCommitAt">When the last commit succeeded; null before the first.</param>
/// <param name="LastFailureAt">When the last commit failed; null if none did.</param>
/// <param name="LastFailure">The exception type and message of the last failed commit.</param>
public readonly record struct WriterStatus(bool Running, TimeSpan? CommitRunningFor, DateTimeOffset? LastCommitAt, DateTimeOffset? LastFailureAt, string? LastFailure)
{
    /// <summary>True when the last commit failed and none succeeded since.</summary>
    public bool LastCommitFailed => LastFailureAt is { } failed && (LastCommitAt is not { } ok || failed >= ok);
}
