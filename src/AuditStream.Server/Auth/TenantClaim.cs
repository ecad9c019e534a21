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
    /// <summary>Why <paramref name="user"/>'s tenant claims are unusable, naming the claim; null when they are valid.</summary>
    public static string? Problem(ClaimsPrincipal user)
    {
        if (user.FindFirst(AuditClaims.Tenants)?.Value is { } tenants)
        {
            return tenants == "*"
                ? null
                : $"The '{AuditClaims.Tenants}' claim is '{tenants}'; the only value understood is '*' (every tenant). Name one tenant in '{AuditClaims.Tenant}' instead.";
        }

        return user.FindFirst(AuditClaims.Tenant)?.Value switch
        {
            null => $"The token has no '{AuditClaims.Tenant}' claim and its '{AuditClaims.Tenants}' claim is not '*': it names no tenant.",
            { } t when string.IsNullOrWhiteSpace(t) => $"The '{AuditClaims.Tenant}' claim is empty: it must name a tenant.",
            "*" => $"The '{AuditClaims.Tenant}' claim may not be '*'; every tenant is granted by '{AuditClaims.Tenants}': '*'.",
            _ => null,
        };
    }
}

/// <summary>Part of every AuditStream policy: the caller's tenant claims must be valid (<see cref="TenantClaim"/>).</summary>
internal sealed class ValidTenantRequirement : AuthorizationHandler<ValidTenantRequirement>, IAuthorizationRequirement
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ValidTenantRequirement requirement)
    {
        if (context.User.Identity?.IsAuthenticated == true)
        {
            if (TenantClaim.Problem(context.User) is { } problem)
            {
                context.Fail(new AuthorizationFailureReason(this, problem));
            }
            else
            {
                context.Succeed(requirement);
            }
        }

        return Task.CompletedTask;
    }
}
