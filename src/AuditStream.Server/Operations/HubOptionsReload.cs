using AuditStream.Streaming.Hub;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Operations;

/// <summary>
/// Applies changed hub limits without a restart (IOptionsMonitor): <c>MaxClients</c> at the next admission, the rate
/// limits (<c>RateLimitPerSecond</c>, <c>RateLimitPerMinute</c>, <c>MaxInboundMessagesPerSecond</c>) for clients that
/// connect afterwards. Other hub keys (buffer sizes, timeouts) need a restart.
/// </summary>
/// <remarks>
/// Until <c>StreamHub.UpdateOptions(HubOptions)</c> exists (the lead's rewrite), the reloadable values are copied into
/// the hub's own options object, which it reads at each admission and client start; <see cref="Apply"/> is the one
/// place to switch to that method.
/// </remarks>
internal sealed partial class HubOptionsReload(StreamHub hub, IOptionsMonitor<HubOptions> monitor, ILogger<HubOptionsReload> logger) : IHostedService, IDisposable
{
    private IDisposable? _subscription;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = monitor.OnChange(OnChange);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _subscription?.Dispose();

    private void OnChange(HubOptions updated)
    {
        Apply(updated);
        Log.Reloaded(logger, updated.MaxClients, updated.RateLimitPerSecond, updated.RateLimitPerMinute);
    }

    private void Apply(HubOptions updated)
    {
        var current = hub.Options;
        current.MaxClients = updated.MaxClients;
        current.RateLimitPerSecond = updated.RateLimitPerSecond;
        current.RateLimitPerMinute = updated.RateLimitPerMinute;
        current.MaxInboundMessagesPerSecond = updated.MaxInboundMessagesPerSecond;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 300, EventName = "HubOptionsReloaded", Level = LogLevel.Information,
            Message = "Hub limits reloaded: MaxClients {MaxClients}, RateLimitPerSecond {PerSecond}, RateLimitPerMinute {PerMinute}")]
        public static partial void Reloaded(ILogger logger, int maxClients, int perSecond, int perMinute);
    }
}
