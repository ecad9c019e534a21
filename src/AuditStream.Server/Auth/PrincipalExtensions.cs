using System.Security.Claims;
using AuditStream.Security;

namespace AuditStream.Server.Auth;

/// <summary>Reads AuditStream's claims from an authenticated caller.</summary>
internal static class PrincipalExtensions
{
    public static Role? GetRole(this ClaimsPrincipal user) =>
        user.FindFirst(AuditClaims.Role)?.Value is { } value && Enum.TryParse<Role>(value, ignoreCase: true, out var role) && Enum.IsDefined(role)
            ? role
            : null;

    public static bool HasScope(this ClaimsPrincipal user, string scope) =>
        user.FindAll(AuditClaims.Scope).Any(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(scope, StringComparer.Ordinal));

    /// <summary>True when the token grants every tenant (<c>tenants: "*"</c>).</summary>
    public static bool HasAllTenants(this ClaimsPrincipal user) => user.FindFirst(AuditClaims.Tenants)?.Value == "*";

    public static string? GetTenant(this ClaimsPrincipal user) => user.FindFirst(AuditClaims.Tenant)?.Value;

    public static string GetSubject(this ClaimsPrincipal user) => user.FindFirst("sub")?.Value ?? "anonymous";
}
