using System.Text.Json;
using System.Text.Json.Serialization;

namespace AuditStream.Server.Operations;

/// <summary><c>/debug/websocket/audit/stats</c>: connections, peaks, rates, uptime and the ledger's end.</summary>
public sealed record DebugStats(DateTimeOffset StartedAt, double UptimeSeconds, DebugConnections Connections, DebugEvents Events, DebugRates Rates, DebugLedger Ledger);

/// <summary>Connection counts since start, and the connection limits in force.</summary>
public sealed record DebugConnections(
    long Active,
    long Peak,
    int MaxClients,
    long Connects,
    long Disconnects,
    long Refused,
    IReadOnlyDictionary<string, long> DisconnectsByReason,
    IReadOnlyDictionary<string, long> RefusedByReason,
    int MaxClientsPerSubject,
    int MaxClientsPerAddress,
    int ReservedPrivilegedClients);

/// <summary>Event delivery counts since start.</summary>
public sealed record DebugEvents(long Published, long Filtered, long Dropped, IReadOnlyDictionary<string, long> DroppedByReason, long BytesSent, long QueueDepth);

/// <summary>Per-second rates over <paramref name="WindowSeconds"/>.</summary>
public sealed record DebugRates(double WindowSeconds, double EventsPublishedPerSecond, double EventsDroppedPerSecond, double ConnectsPerSecond, double DisconnectsPerSecond, double BytesSentPerSecond);

/// <summary>The ledger's end and its latest checkpoint.</summary>
public sealed record DebugLedger(long TreeSize, long QueuedEvents, long? CheckpointTreeSize, double? CheckpointAgeSeconds, DateTimeOffset? LastCommitAt, string? LastCommitFailure);

/// <summary><c>/debug/websocket/audit/metrics</c>: the hub's instruments as JSON (the same values <c>/metrics</c> exports).</summary>
public sealed record DebugHubMetrics(
    long ConnectionsActive,
    long ConnectionsPeak,
    long Connects,
    long Disconnects,
    IReadOnlyDictionary<string, long> DisconnectsByReason,
    long ConnectionsRefused,
    IReadOnlyDictionary<string, long> RefusedByReason,
    long EventsPublished,
    long EventsFiltered,
    long EventsDropped,
    IReadOnlyDictionary<string, long> DroppedByReason,
    long SentBytes,
    long QueueDepth,
    long MemoryUsageBytes);

/// <summary>One page of <c>/debug/websocket/audit/clients</c>.</summary>
public sealed record DebugClientPage(int Total, int Page, int PageSize, string? Next, IReadOnlyList<DebugClient> Clients);

/// <summary>One connected client; null counters are not reported by the hub yet.</summary>
public sealed record DebugClient(
    string ClientId,
    string Role,
    string? TenantId,
    string? RemoteAddress,
    string Transport,
    DateTimeOffset ConnectedAt,
    long? SinceSeq,
    JsonElement Filters,
    int? QueueDepth,
    long? Delivered,
    long? Dropped,
    DateTimeOffset? LastActivity);

/// <summary><c>/debug/websocket/audit/config</c>: the effective configuration, secrets redacted.</summary>
public sealed record DebugConfig(string Environment, IReadOnlyDictionary<string, string?> Values);

/// <summary>Source-generated JSON of the debug endpoints (snake_case).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(DebugStats))]
[JsonSerializable(typeof(DebugHubMetrics))]
[JsonSerializable(typeof(DebugClientPage))]
[JsonSerializable(typeof(DebugConfig))]
internal sealed partial class DebugJsonContext : JsonSerializerContext;
