namespace AuditStream.Client.Verification;

/// <summary>
/// A verifying subscription (<see cref="AuditStreamClientOptions.VerifyStreamProofs"/>) found something the pinned key
/// does not vouch for: a checkpoint that does not verify or is not consistent with the largest one verified before, or
/// an event whose proof does not lead to the checkpoint's root. The server, or something between it and this client,
/// showed a history it cannot prove; the subscription ends.
/// </summary>
public sealed class StreamVerificationException : Exception
{
    public StreamVerificationException()
    {
    }

    public StreamVerificationException(string message)
        : base(message)
    {
    }

    public StreamVerificationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for <paramref name="seq"/> (null: a checkpoint) and what failed.</summary>
    public StreamVerificationException(long? seq, long? treeSize, string failure)
        : base(seq is { } s ? $"Stream verification failed at seq {s}: {failure}" : $"Stream verification failed for the checkpoint at tree size {treeSize}: {failure}")
    {
        Seq = seq;
        TreeSize = treeSize;
        Failure = failure;
    }

    /// <summary>The event whose proof failed, or null when a checkpoint failed.</summary>
    public long? Seq { get; }

    /// <summary>The tree size of the checkpoint involved.</summary>
    public long? TreeSize { get; }

    /// <summary>What failed.</summary>
    public string? Failure { get; }
}
