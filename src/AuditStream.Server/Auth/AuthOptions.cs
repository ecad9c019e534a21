using System.ComponentModel.DataAnnotations;

namespace AuditStream.Server.Auth;

/// <summary>How bearer tokens (JWT) are validated: a shared HS256 secret for development, or an OIDC authority / JWKS URL for production.</summary>
public sealed class AuthOptions : IValidatableObject
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

    /// <summary>
    /// Roles whose tokens must carry a multi-factor sign-in (<see cref="MfaMethods"/> in <c>amr</c>, or an
    /// <see cref="MfaAcrValues"/> <c>acr</c>) on every endpoint; without it a 403 names <c>amr</c> and the rule
    /// <c>mfa_required</c>. Erasure requires it of every role, whatever this says.
    /// </summary>
    /// <value>Default empty (no role); <c>["admin", "compliance"]</c> is the recommended production setting.</value>
    public List<string> PrivilegedRoles { get; set; } = [];

    /// <summary>The <c>amr</c> values (RFC 8176) that count as a multi-factor sign-in.</summary>
    /// <value>Default <c>["mfa"]</c>.</value>
    public List<string> MfaMethods { get; set; } = [];

    /// <summary>The <c>acr</c> values that count as a multi-factor sign-in as well (an identity provider's assurance levels).</summary>
    /// <value>Default empty.</value>
    public List<string> MfaAcrValues { get; set; } = [];

    /// <summary>The <c>amr</c> values in force: <see cref="MfaMethods"/>, or <c>mfa</c> when none are configured.</summary>
    internal IReadOnlyList<string> EffectiveMfaMethods => MfaMethods.Count > 0 ? MfaMethods : [AuditClaims.Mfa];

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var role in PrivilegedRoles)
        {
            if (!AuditStream.Security.RoleNames.TryParse(role, out _))
            {
                yield return new ValidationResult($"'{role}' is not a role: admin, security, compliance, operator, auditor or user.", [nameof(PrivilegedRoles)]);
            }
        }
    }
}
