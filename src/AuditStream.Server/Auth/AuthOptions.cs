using System.ComponentModel.DataAnnotations;

namespace AuditStream.Server.Auth;

/// <summary>How bearer tokens (JWT) are validated: a shared HS256 secret for development, or an OIDC authority / JWKS URL for production.</summary>
public sealed class AuthOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "AuditStream:Auth";

    /// <summary>Expected <c>iss</c> of HS256 tokens, and the issuer <c>auditstream token issue</c> writes.</summary>
    /// <value>Default <c>auditstream</c>.</value>
    [Required]
    public string Issuer { get; set; } = "auditstream";

    /// <summary>Expected <c>aud</c>.</summary>
    /// <value>Default <c>auditstream</c>.</value>
    [Required]
    public string Audience { get; set; } = "auditstream";

    /// <summary>HS256 secret (base64, at least 32 bytes). Secret: never logged or printed.</summary>
    /// <value>Default <c>null</c>: read from <see cref="SigningKeyPath"/>, generated there on first start.</value>
    public string? SigningKey { get; set; }

    /// <summary>File holding the HS256 secret.</summary>
    /// <value>Default <c>null</c>: <c>{DataDirectory}/jwt-signing.key</c>.</value>
    public string? SigningKeyPath { get; set; }

    /// <summary>OIDC authority (issuer URL) whose discovery document gives the RS256/ES256 signing keys. Disables HS256.</summary>
    /// <value>Default <c>null</c>.</value>
    public string? Authority { get; set; }

    /// <summary>JWKS URL with the RS256/ES256 signing keys, for issuers without OIDC discovery. Disables HS256.</summary>
    /// <value>Default <c>null</c>.</value>
    public string? JwksUrl { get; set; }

    /// <summary>Allow an http:// authority or JWKS URL (loopback tests only).</summary>
    /// <value>Default <c>false</c>.</value>
    public bool AllowInsecureMetadata { get; set; }

    /// <summary>Tolerated clock difference when checking <c>exp</c>/<c>nbf</c>.</summary>
    /// <value>Default 30 seconds.</value>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);
}
