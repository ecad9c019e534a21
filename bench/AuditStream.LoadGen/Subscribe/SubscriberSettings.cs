using System.Net;

namespace AuditStream.LoadGen.Subscribe;

/// <summary>What one subscriber process opens: connections <see cref="First"/> to First+Count-1 of the run.</summary>
internal sealed record SubscriberSettings
{
    public required Uri Url { get; init; }

    public required string Token { get; init; }

    public int Count { get; init; }

    /// <summary>Global index of this process's first connection; filters and stalled connections depend on the global index.</summary>
    public int First { get; init; }

    /// <summary>0: every client subscribes to everything; N: client i filters on event type <c>EventTypes.Name(i % N)</c>.</summary>
    public int Types { get; init; }

    /// <summary>Extra query string for every connection (e.g. <c>severities=error</c>).</summary>
    public string? Query { get; init; }

    /// <summary>Percent of clients (global index i with i % 100 below it) that never read after the upgrade.</summary>
    public int StalledPercent { get; init; }

    /// <summary>SO_RCVBUF of stalled clients, so the kernel stops taking frames for them early.</summary>
    public int StalledReceiveBuffer { get; init; } = 4096;

    /// <summary>Bytes of each healthy client's read buffer.</summary>
    public int ReadBuffer { get; init; } = 16 * 1024;

    public int ConnectConcurrency { get; init; } = 64;

    /// <summary>Local addresses to bind (round robin), e.g. 127.0.0.2..; empty for the kernel's choice.</summary>
    public IReadOnlyList<IPAddress> Sources { get; init; } = [];

    public WireProtocol Protocol { get; init; } = WireProtocol.AuditStream;

    /// <summary>Where a latency starts: the producer's send (<c>metadata.sent_ts</c>) or the ledger's commit time (the event's <c>timestamp</c>).</summary>
    public LatencyOrigin LatencyFrom { get; init; } = LatencyOrigin.Sent;

    public bool IsStalled(int globalIndex) => globalIndex % 100 < StalledPercent;

    public string PathAndQuery(int globalIndex)
    {
        // Peers take every connection as is: SignalR without negotiation (WebSockets only), nats-server at its root.
        if (Protocol != WireProtocol.AuditStream)
        {
            return Protocol == WireProtocol.SignalR ? "/hub" : "/";
        }

        var query = "token=" + Uri.EscapeDataString(Token);
        if (Types > 0)
        {
            query += "&event_types=" + Produce.EventTypes.Name(globalIndex % Types, Types);
        }

        if (!string.IsNullOrEmpty(Query))
        {
            query += "&" + Query;
        }

        return "/ws/audit?" + query;
    }
}
