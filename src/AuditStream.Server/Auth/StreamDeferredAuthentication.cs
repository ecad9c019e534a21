using System.Text.Encodings.Web;
using AuditStream.Server.Streaming;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Auth;

/// <summary>
/// The scheme the authentication middleware runs for every request: JWT bearer, except on the stream endpoints, which
/// authenticate in the endpoint (<see cref="StreamEndpoints.AuthenticateAsync"/>) in a scope of their own. The
/// middleware's frame lives as long as a stream connection does, so what it authenticated (the validated token and its
/// claims, several KiB) would live that long too; on those paths it authenticates nothing.
/// </summary>
internal static class StreamDeferredAuthentication
{
    /// <summary>The middleware's scheme: forwards to JWT bearer or, on stream paths, to <see cref="DeferredScheme"/>.</summary>
    public const string RequestScheme = "AuditStream.Request";

    /// <summary>The scheme that authenticates nothing.</summary>
    public const string DeferredScheme = "AuditStream.StreamDeferred";

    public static AuthenticationBuilder AddStreamDeferredAuthentication(this AuthenticationBuilder builder) => builder
        .AddPolicyScheme(RequestScheme, null, policy => policy.ForwardDefaultSelector =
            static http => StreamEndpoints.IsStreamPath(http.Request.Path) ? DeferredScheme
                : Hosting.Tls.ClientCertificateAuthentication.Selects(http) ? Hosting.Tls.ClientCertificateAuthentication.Scheme
                : JwtBearerDefaults.AuthenticationScheme)
        .AddScheme<AuthenticationSchemeOptions, Handler>(DeferredScheme, null);

    private sealed class Handler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync() => Task.FromResult(AuthenticateResult.NoResult());
    }
}
