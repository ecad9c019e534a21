using System.Text.Json.Nodes;
using AuditStream.Server.Auth;

namespace AuditStream.Server.WebConsole;

/// <summary>
/// The console's sign-in settings: <c>GET /console.json</c> (issuer, client id, scopes; <c>"oidc": null</c> without a client
/// id), and the issuer's origin, which the console's Content-Security-Policy must let it connect to (discovery, token endpoint)
/// and frame (silent re-sign-in).
/// </summary>
internal sealed class ConsoleSignIn
{
    private ConsoleSignIn(string json, string? issuerOrigin)
    {
        Json = json;
        IssuerOrigin = issuerOrigin;
    }

    /// <summary>The body of <c>/console.json</c>.</summary>
    public string Json { get; }

    /// <summary><c>scheme://host[:port]</c> of the issuer, or null without OIDC sign-in.</summary>
    public string? IssuerOrigin { get; }

    /// <summary>The settings from configuration; a client id without an issuer (here or <c>AuditStream:Auth:Authority</c>), or an http issuer outside loopback tests, is refused at start.</summary>
    public static ConsoleSignIn From(ConsoleOptions options, AuthOptions auth)
    {
        var oidc = options.Oidc;
        if (string.IsNullOrWhiteSpace(oidc.ClientId))
        {
            return new ConsoleSignIn(new JsonObject { ["oidc"] = null }.ToJsonString(), null);
        }

        var issuer = oidc.Issuer ?? auth.Authority
            ?? throw new InvalidOperationException($"{ConsoleOptions.SectionName}:Oidc:ClientId is set but there is no issuer: set {ConsoleOptions.SectionName}:Oidc:Issuer or {AuthOptions.SectionName}:Authority.");
        if (!Uri.TryCreate(issuer, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && !(uri.Scheme == Uri.UriSchemeHttp && auth.AllowInsecureMetadata)))
        {
            throw new InvalidOperationException($"{ConsoleOptions.SectionName}:Oidc:Issuer must be an absolute https URL (http only with {AuthOptions.SectionName}:AllowInsecureMetadata), not \"{issuer}\".");
        }

        var body = new JsonObject
        {
            ["oidc"] = new JsonObject
            {
                ["issuer"] = issuer.TrimEnd('/'),
                ["client_id"] = oidc.ClientId,
                ["scopes"] = oidc.Scopes,
                ["audience"] = oidc.Audience,
            },
        };
        return new ConsoleSignIn(body.ToJsonString(), uri.GetLeftPart(UriPartial.Authority));
    }

    /// <summary>
    /// The console's policy: same-origin everything; with OIDC sign-in, connections to the issuer's origin (discovery, token
    /// endpoint) and frames from it (the hidden frame of a silent re-sign-in, <c>prompt=none</c>, which the issuer redirects
    /// back to <c>/silent.html</c>).
    /// </summary>
    public string ContentSecurityPolicy => IssuerOrigin is null
        ? WebConsoleFiles.ContentSecurityPolicy
        : WebConsoleFiles.ContentSecurityPolicy.Replace("connect-src 'self'", $"connect-src 'self' {IssuerOrigin}; frame-src 'self' {IssuerOrigin}", StringComparison.Ordinal);
}
