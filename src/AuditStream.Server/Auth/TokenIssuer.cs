using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AuditStream.Server.Auth;

/// <summary>Issues HS256 tokens with the development secret (<c>auditstream token issue</c>, tests).</summary>
internal sealed class TokenIssuer(byte[] secret, AuthOptions options, TimeProvider timeProvider)
{
    public string Issue(string role, string? tenant, IReadOnlyCollection<string> scopes, TimeSpan ttl, string? subject = null, string? audience = null, bool mfa = false)
    {
        var now = timeProvider.GetUtcNow().UtcDateTime;
        var claims = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            [AuditClaims.Role] = role,
            ["sub"] = subject ?? $"cli-{role}",
        };
        if (tenant == "*")
        {
            claims[AuditClaims.Tenants] = "*";
        }
        else if (tenant is not null)
        {
            claims[AuditClaims.Tenant] = tenant;
        }

        if (mfa)
        {
            // RFC 8176 authentication method reference: a development stand-in for an identity provider's step-up.
            claims[AuditClaims.AuthenticationMethods] = new[] { AuditClaims.Mfa };
        }

        if (scopes.Count > 0)
        {
            claims[AuditClaims.Scope] = string.Join(' ', scopes);
        }

        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = options.Issuer,
            Audience = audience ?? options.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + ttl,
            Claims = claims,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(secret), SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }
}
