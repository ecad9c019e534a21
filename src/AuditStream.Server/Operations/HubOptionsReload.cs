using AuditStream.Streaming.Hub;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Operations;

/// <summary>
/// Applies changed hub limits without a restart (IOptionsMonitor): the connection limits (<c>MaxClients</c>,
/// <c>MaxClientsPerSubject</c>, <c>MaxClientsPerAddress</c>, <c>ReservedPrivilegedShare</c>) at the next admission, the rate
/// limits (<c>RateLimitPerSecond</c>, <c>RateLimitPerMinute</c>, <c>MaxInboundMessagesPerSecond</c>) for clients that
/// connect afterwards, <c>AllowedOrigins</c> and <c>PublicOrigins</c> at the next request (the stream's Origin check and CORS). Other hub keys
/// (buffer sizes, timeouts) need a restart. A changed value that fails validation is logged
/// (<c>HubOptionsReloadRejected</c>, naming the key and rule) and the limits in force stay.
/// </summary>
/// <remarks>
/// The reloadable values are copied into the hub's own options object, which it reads at each admission (MaxClients)
/// and when a client starts (its rate limits), so clients already connected keep the limits they started with.
/// </remarks>
internal sealed partial class HubOptionsReload(StreamHub hub, IOptionsMonitor<HubOptions> monitor, IConfiguration configuration, ILogger<HubOptionsReload> logger) : IHostedService, IDisposable
{
    private IDisposable? _subscription;
    private IDisposable? _validation;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = monitor.OnChange(OnChange);

        // The monitor skips an invalid change silently (its validation exception goes to the reload's caller): say so.
        _validation = Microsoft.Extensions.Primitives.ChangeToken.OnChange(configuration.GetReloadToken, CheckChange);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _subscription?.Dispose();
        _validation?.Dispose();
    }

    private void CheckChange()
    {
        var options = configuration.GetSection(HubOptions.SectionName).Get<HubOptions>() ?? new HubOptions();
        var result = new KeyedOptionsValidator<HubOptions>(HubOptions.SectionName).Validate(Options.DefaultName, options);
        if (result.Failed)
        {
            Log.ReloadRejected(logger, result.FailureMessage);
        }
    }

    private void OnChange(HubOptions updated)
    {
        Apply(updated);
        Log.Reloaded(logger, updated.MaxClients, updated.RateLimitPerSecond, updated.RateLimitPerMinute);
    }

    private void Apply(HubOptions updated)
    {
        var current = hub.Options;
        current.MaxClients = updated.MaxClients;
        current.MaxClientsPerSubject = updated.MaxClientsPerSubject;
        current.MaxClientsPerAddress = updated.MaxClientsPerAddress;
        current.ReservedPrivilegedShare = updated.ReservedPrivilegedShare;
        current.RateLimitPerSecond = updated.RateLimitPerSecond;
        current.RateLimitPerMinute = updated.RateLimitPerMinute;
        current.MaxInboundMessagesPerSecond = updated.MaxInboundMessagesPerSecond;
        current.AllowedOrigins = updated.AllowedOrigins;
        current.PublicOrigins = updated.PublicOrigins;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 300, EventName = "HubOptionsReloaded", Level = LogLevel.Information,
            Message = "Hub limits reloaded: MaxClients {MaxClients}, RateLimitPerSecond {PerSecond}, RateLimitPerMinute {PerMinute}")]
        public static partial void Reloaded(ILogger logger, int maxClients, int perSecond, int perMinute);

        [LoggerMessage(EventId = 301, EventName = "HubOptionsReloadRejected", Level = LogLevel.Error,
            Message = "Changed hub configuration rejected; the limits in force stay: {Failures}")]
        public static partial void ReloadRejected(ILogger logger, string failures);
    }
}
