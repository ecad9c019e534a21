namespace AuditStream.Ledger.Verification;

/// <summary>What the verifier found wrong first.</summary>
public enum TamperKind
{
    /// <summary>Nothing: the ledger is intact.</summary>
    None,

    /// <summary>An event's body or hash was changed: its hash does not follow from the previous hash and its body.</summary>
    Modified,

    /// <summary>A seq is absent (a row was deleted).</summary>
    Missing,

    /// <summary>Rows were swapped or renumbered: a body's own seq or prev_hash does not match its position.</summary>
    Reordered,

    /// <summary>The ledger ends before a checkpoint it once signed (rows deleted from the end).</summary>
    Truncated,

    /// <summary>The ledger is behind the trusted checkpoint and keeps no record of it (restored from an older copy).</summary>
    RolledBack,

    /// <summary>The chain is self-consistent but its Merkle root differs from a checkpoint: history was rewritten and re-hashed.</summary>
    Rewritten,

    /// <summary>A checkpoint's signature does not verify with the given public key, or the checkpoint is malformed.</summary>
    BadSignature,

    /// <summary>A persisted Merkle subtree hash (used to serve proofs) differs from the one the events give.</summary>
    SubtreeMismatch,
}

/// <summary>The verifier's verdict: valid, or the first bad seq and why.</summary>
/// <param name="Kind">What is wrong, or <see cref="TamperKind.None"/>.</param>
/// <param name="FirstBadSeq">The first seq found bad, when a single one can be named.</param>
/// <param name="Message">A sentence for a person.</param>
/// <param name="EventsChecked">Events re-walked.</param>
/// <param name="CheckpointsChecked">Stored and trusted checkpoints compared against the recomputed tree.</param>
/// <param name="Elapsed">Wall time of the run.</param>
public sealed record VerificationReport(TamperKind Kind, long? FirstBadSeq, string Message, long EventsChecked, int CheckpointsChecked, TimeSpan Elapsed)
{
    /// <summary>True when nothing is wrong.</summary>
    public bool IsValid => Kind == TamperKind.None;

    /// <inheritdoc />
    public override string ToString() =>
        IsValid
            ? $"valid: {EventsChecked} events, {CheckpointsChecked} checkpoints in {Elapsed.TotalSeconds:F2} s"
            : $"{Kind.ToString().ToLowerInvariant()}{(FirstBadSeq is { } s ? $" at seq {s}" : "")}: {Message}";
}

/// <summary>What to verify against.</summary>
public sealed record VerificationOptions
{
    /// <summary>A signed checkpoint (C2SP signed note) obtained earlier from a place the server cannot rewrite.</summary>
    public string? TrustedCheckpoint { get; init; }

    /// <summary>The note verifier key (<c>name+hash+base64</c>) that must have signed the checkpoints.</summary>
    public string? VerifierKey { get; init; }

    /// <summary>Told how far the walk is after each chunk of events (a long run's progress display); may be null.</summary>
    public IProgress<VerificationProgress>? Progress { get; init; }
}

/// <summary>How far a verification run is.</summary>
/// <param name="EventsChecked">Events verified so far.</param>
/// <param name="EventsTotal">Events the ledger held when the run started.</param>
public readonly record struct VerificationProgress(long EventsChecked, long EventsTotal);
