namespace AuditStream.Server.WebConsole;

/// <summary>What the web console learns from <c>GET /console.json</c>: how it signs in.</summary>
public sealed class ConsoleOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "AuditStream:Console";

    /// <summary>OpenID Connect sign-in (authorization code with PKCE); without a client id the console signs in by token only.</summary>
    public ConsoleOidcOptions Oidc { get; set; } = new();
}

/// <summary>The console's OpenID Connect client: a public client (no secret) using the authorization code flow with PKCE (S256).</summary>
public sealed class ConsoleOidcOptions
{
    /// <summary>The issuer whose discovery document (<c>{Issuer}/.well-known/openid-configuration</c>) the console reads.</summary>
    /// <value>Default <c>null</c>: <c>AuditStream:Auth:Authority</c>.</value>
    public string? Issuer { get; set; }

    /// <summary>The console's client id at the issuer (a public client whose redirect URI is the console's address, <c>https://host/</c>). Enables OIDC sign-in.</summary>
    /// <value>Default <c>null</c>: sign-in by pasting a token only.</value>
    public string? ClientId { get; set; }

    /// <summary>The scopes asked for, space-separated; <c>offline_access</c> lets the issuer send a refresh token.</summary>
    /// <value>Default <c>openid</c>.</value>
    public string Scopes { get; set; } = "openid";

    /// <summary>An <c>audience</c> parameter for the authorization request, for issuers that choose the access token's audience from it (Auth0).</summary>
    /// <value>Default <c>null</c>: none sent.</value>
    public string? Audience { get; set; }
}
