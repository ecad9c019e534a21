namespace AuditStream.LoadGen.Produce;

/// <summary>How the producer posts to <c>POST /api/v1/events</c>.</summary>
internal sealed record ProducerSettings
{
    public required Uri Url { get; init; }

    public required string Token { get; init; }

    /// <summary>Events per second offered (open loop); 0 = as fast as the server commits (closed loop, <see cref="Connections"/> posters).</summary>
    public int Rate { get; init; }

    /// <summary>At a fixed rate, events due are sent together every this many milliseconds.</summary>
    public int IntervalMs { get; init; } = 5;

    /// <summary>Most events per request (the server takes at most 1,000).</summary>
    public int MaxBatch { get; init; } = 1000;

    /// <summary>HTTP connections: posters at max rate, the in-flight bound at a fixed rate.</summary>
    public int Connections { get; init; } = 8;

    public int Types { get; init; } = 1;
}
