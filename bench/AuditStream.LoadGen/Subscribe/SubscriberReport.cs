namespace AuditStream.LoadGen.Subscribe;

/// <summary>What a subscriber process reports to the coordinator (one JSON line); histograms are HdrHistogram logs.</summary>
internal sealed record SubscriberReport
{
    public int Connected { get; init; }

    public int Stalled { get; init; }

    public int Failed { get; init; }

    /// <summary>Connect failures by reason (status line or socket error).</summary>
    public Dictionary<string, int> FailureReasons { get; init; } = [];

    public long Frames { get; init; }

    public long Published { get; init; }

    /// <summary>Published events received inside the measurement window (by receive time): delivered messages.</summary>
    public long PublishedInWindow { get; init; }

    /// <summary>Published events whose producer timestamp is inside the window (the latency samples).</summary>
    public long LatencySamples { get; init; }

    /// <summary>Fewest and most published events one healthy client received (fairness; a stuck client shows as 0).</summary>
    public long PublishedMin { get; init; }

    public long PublishedMax { get; init; }

    public long Gaps { get; init; }

    public long ErrorMessages { get; init; }

    /// <summary>Connections the server closed, by close code.</summary>
    public Dictionary<string, int> Closes { get; init; } = [];

    /// <summary>Connections that ended without a close frame, by reason (eof, socket error).</summary>
    public Dictionary<string, int> Broken { get; init; } = [];

    public string Latency { get; init; } = "";

    public string ConnectTime { get; init; } = "";
}
