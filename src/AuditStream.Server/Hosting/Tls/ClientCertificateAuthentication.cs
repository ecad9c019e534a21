using System.Text.Encodings.Web;
using AuditStream.Server.Api;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Hosting.Tls;

/// <summary>
/// The authentication scheme of producers that present a client certificate on <c>POST /api/v1/events</c> and send no
/// <c>Authorization</c> header (a bearer token, when sent, is what counts). Everything else still needs a token.
/// </summary>
internal static partial class ClientCertificateAuthentication
{
    public const string Scheme = "AuditStream.ClientCertificate";

    /// <summary>Whether the request authenticates with its TLS client certificate rather than a bearer token.</summary>
    public static bool Selects(HttpContext http) =>
        http.Connection.ClientCertificate is not null
        && http.Request.Headers.Authorization.Count == 0
        && HttpMethods.IsPost(http.Request.Method)
        && http.Request.Path.Equals("/api/v1/events", StringComparison.Ordinal);

    public static AuthenticationBuilder AddClientCertificateAuthentication(this AuthenticationBuilder builder) =>
        builder.AddScheme<AuthenticationSchemeOptions, Handler>(Scheme, null);

    private sealed partial class Handler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ProducerCertificates producers)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (Context.Connection.ClientCertificate is not { } certificate)
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            try
            {
                return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(producers.Authenticate(certificate), Scheme.Name)));
            }
            catch (ClientCertificateRefusedException refused)
            {
                Log.Refused(Logger, certificate.Subject, certificate.Thumbprint, Streaming.StreamEndpoints.RemoteAddress(Context), refused.Rule);
                return Task.FromResult(AuthenticateResult.Fail(refused));
            }
        }

        private static partial class Log
        {
            [LoggerMessage(EventId = 302, EventName = "ClientCertificateRefused", Level = LogLevel.Warning,
                Message = "Client certificate {Subject} ({Thumbprint}) from {RemoteAddress} refused: client_certificate {Rule}")]
            public static partial void Refused(ILogger logger, string subject, string thumbprint, string? remoteAddress, string rule);
        }
    }

    /// <summary>The 401 problem's field and rule for a refused certificate, or null when the failure is not one.</summary>
    public static ProblemError? Problem(Exception? failure) =>
        failure is ClientCertificateRefusedException refused ? new ProblemError(null, refused.Field, refused.Rule) : null;
}
