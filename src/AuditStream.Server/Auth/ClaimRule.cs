using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;

namespace AuditStream.Server.Auth;

/// <summary>
/// An authorization requirement on the caller's claims that knows what it demands: a refusal names the claim and the
/// rule (see <see cref="AuthorizationProblems"/>), where an assertion could only say "Forbidden".
/// </summary>
internal sealed class ClaimRule(string claim, string rule, Func<ClaimsPrincipal, bool> holds) : IAuthorizationRequirement, IAuthorizationHandler
{
    /// <summary>The claim the rule is about (<c>role</c>, <c>tenant</c>, <c>scope</c>).</summary>
    public string Claim { get; } = claim;

    /// <summary>What the claim must be, as a problem detail's <c>rule</c>.</summary>
    public string Rule { get; } = rule;

    public Task HandleAsync(AuthorizationHandlerContext context)
    {
        if (holds(context.User))
        {
            context.Succeed(this);
        }

        return Task.CompletedTask;
    }
}
