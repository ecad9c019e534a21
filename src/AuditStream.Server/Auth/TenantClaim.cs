using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;

namespace AuditStream.Server.Auth;

/// <summary>
/// The tenant rule every path enforces: a token either grants all tenants (<c>tenants: "*"</c>) or names exactly one
/// tenant in <c>tenant</c> — present, not blank, not <c>*</c>. A token that does neither can do nothing: it must not
/// ingest events with no tenant, an empty one or a literal <c>*</c>.
/// </summary>
internal static class TenantClaim
{
    /// <summary>The claim of <paramref name="user"/> that breaks the tenant rule and how (a problem detail's field and rule); null when valid.</summary>
    public static (string Claim, string Rule)? Problem(ClaimsPrincipal user)
    {
        if (user.FindFirst(AuditClaims.Tenants)?.Value is { } tenants)
        {
            return tenants == "*"
                ? null
                : (AuditClaims.Tenants, $"must be '*' (every tenant), the only value understood; name one tenant in '{AuditClaims.Tenant}' instead");
        }

        return user.FindFirst(AuditClaims.Tenant)?.Value switch
        {
            null => (AuditClaims.Tenant, $"is missing: a token names one tenant in '{AuditClaims.Tenant}', or every tenant with '{AuditClaims.Tenants}': '*'"),
            { } t when string.IsNullOrWhiteSpace(t) => (AuditClaims.Tenant, "must not be empty: it names the caller's tenant"),
            "*" => (AuditClaims.Tenant, $"may not be '*': every tenant is granted by '{AuditClaims.Tenants}': '*'"),
            _ => null,
        };
    }
}

/// <summary>Part of every AuditStream policy: the caller's tenant claims must be valid (<see cref="TenantClaim"/>).</summary>
internal sealed class ValidTenantRequirement : AuthorizationHandler<ValidTenantRequirement>, IAuthorizationRequirement
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ValidTenantRequirement requirement)
    {
        // Not Fail(): that would hide the other failed requirements; the 403 problem asks TenantClaim why this one failed.
        if (context.User.Identity?.IsAuthenticated == true && TenantClaim.Problem(context.User) is null)
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
