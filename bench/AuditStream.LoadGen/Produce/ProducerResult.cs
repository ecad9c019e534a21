namespace AuditStream.LoadGen.Produce;

/// <summary>What the producer sent and had committed; <see cref="PerTypeInWindow"/> counts committed events stamped inside the window.</summary>
internal sealed class ProducerResult(int types)
{
    public long Sent;
    public long Committed;
    public long Refused;
    public long Failed;
    public long CommittedInWindow;
    /// <summary>Times a fixed-rate send had to wait for a free connection (the server answered slower than the offered rate).</summary>
    public long WaitedForConnection;
    public string? LastError;

    public long[] PerTypeInWindow { get; } = new long[types];
}
