using AuditStream.LoadGen.Produce;
using AuditStream.LoadGen.Subscribe;

namespace AuditStream.LoadGen.Run;

/// <summary>One scenario run: subscribers (split across processes), a producer, the window and where results go.</summary>
internal sealed record RunSettings
{
    public required string Scenario { get; init; }

    /// <summary>Settings every subscriber process shares; Count and First are set per process.</summary>
    public required SubscriberSettings Subscribers { get; init; }

    public required ProducerSettings Producer { get; init; }

    public int Clients { get; init; }

    public int PerProcess { get; init; } = 5000;

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(3);

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>After the window: time for in-window events still in flight to arrive before the report.</summary>
    public TimeSpan Drain { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Idle run: no producer; server RSS before and after <see cref="Clients"/> connections, after <see cref="Duration"/> settling.</summary>
    public bool Idle { get; init; }

    /// <summary>The server's process id, for its CPU and RSS; 0 to skip.</summary>
    public int ServerPid { get; init; }

    public string? CsvPath { get; init; }

    /// <summary>Sets DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 in subscriber processes (reads complete on the epoll thread).</summary>
    public bool InlineCompletions { get; init; } = true;

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromMinutes(3);
}
