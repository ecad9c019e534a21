using AuditStream.Streaming.Transports;
using Microsoft.AspNetCore.Http.Features;

namespace AuditStream.Server.Streaming;

/// <summary>
/// Puts a <see cref="WriteCoalescingStream"/> under the WebSocket that ASP.NET Core builds for <c>/ws/audit</c>: the
/// WebSocket middleware upgrades through this feature, so the socket writes its frames into a stream the client's write
/// loop can hold and release around a batch.
/// </summary>
internal sealed class CoalescingUpgradeFeature(IHttpUpgradeFeature inner) : IHttpUpgradeFeature
{
    public WriteCoalescingStream? Stream { get; private set; }

    public bool IsUpgradableRequest => inner.IsUpgradableRequest;

    public async Task<Stream> UpgradeAsync()
    {
        Stream = new WriteCoalescingStream(await inner.UpgradeAsync());
        return Stream;
    }

    /// <summary>Installs the feature on WebSocket requests to <paramref name="path"/>; must run before <c>UseWebSockets</c>.</summary>
    public static IApplicationBuilder UseCoalescingWebSockets(IApplicationBuilder app, PathString path) =>
        app.Use((http, next) =>
        {
            if (http.Request.Path.StartsWithSegments(path) && http.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade)
            {
                http.Features.Set<IHttpUpgradeFeature>(new CoalescingUpgradeFeature(upgrade));
            }

            return next(http);
        });
}
