using AuditStream.Security;
using AuditStream.Streaming.Clients;
using Microsoft.Extensions.Logging;

namespace AuditStream.Streaming.Hub;

/// <summary>What operators see of the hub: its instruments, a snapshot of its clients, and connect/disconnect logs.</summary>
public sealed partial class StreamHub
{
    private readonly HubMetrics? _metrics;

    /// <summary>The instruments the hub and its clients count on; null counts nothing.</summary>
    public HubMetrics? Metrics
    {
        get => _metrics;
        init
        {
            _metrics = value;
            value?.ObserveQueueDepth(() => _clients.Values.Sum(static c => (long)c.QueueDepth));
        }
    }

    /// <summary>The clients connected now, oldest first, with their queue, counts, last activity and current filters.</summary>
    public IReadOnlyList<StreamClientSnapshot> SnapshotClients() =>
        [.. _clients.Values
            .Select(static c => new StreamClientSnapshot(
                c.Id,
                RoleNames.ToName(c.Request.Scope.Role),
                c.Request.Scope.TenantId,
                c.Request.RemoteAddress,
                c.TransportName,
                c.ConnectedAt,
                c.Filter.Filter,
                c.Request.SinceSeq,
                c.QueueDepth,
                c.Delivered,
                c.Dropped,
                c.LastActivity))
            .OrderBy(static c => c.ConnectedAt).ThenBy(static c => c.ClientId, StringComparer.Ordinal)];

    private void OnConnected(ClientConnection client)
    {
        var request = client.Request;
        Metrics?.Connected(client.TransportName);
        Log.StreamClientOpened(_logger, client.Id, request.RemoteAddress, client.TransportName, RoleNames.ToName(request.Scope.Role), request.SinceSeq ?? -1);
    }

    private void OnDisconnected(ClientConnection client, int closeStatus)
    {
        Metrics?.Disconnected(closeStatus);
        Log.StreamClientClosed(_logger, client.Id, client.Request.RemoteAddress, HubMetrics.DisconnectReasons.Of(closeStatus), closeStatus);
    }

    private void OnRefused(string reason)
    {
        Metrics?.ConnectionRefused(reason);
        Log.StreamClientRefused(_logger, reason, ClientCount, Options.MaxClients);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 10, EventName = "StreamClientOpened", Level = LogLevel.Information,
            Message = "Stream client {ClientId} from {RemoteAddress} connected over {Transport} as {Role} (since_seq {SinceSeq}, -1 for live)")]
        public static partial void StreamClientOpened(ILogger logger, string clientId, string? remoteAddress, string transport, string role, long sinceSeq);

        [LoggerMessage(EventId = 11, EventName = "StreamClientClosed", Level = LogLevel.Information,
            Message = "Stream client {ClientId} from {RemoteAddress} disconnected: {Reason} (server close status {CloseStatus}, -1 when the client left)")]
        public static partial void StreamClientClosed(ILogger logger, string clientId, string? remoteAddress, string reason, int closeStatus);

        [LoggerMessage(EventId = 12, EventName = "StreamClientRefused", Level = LogLevel.Warning,
            Message = "Stream connection refused: {Reason} ({Clients} of {MaxClients} clients connected)")]
        public static partial void StreamClientRefused(ILogger logger, string reason, int clients, int maxClients);
    }
}
