using System.Security.Claims;
using AuditStream.Security;
using AuditStream.Security.Attributes;
using AuditStream.Validation;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Auth.Attributes;

/// <summary>The compiled attribute rules, and how a caller's token becomes the subject they are evaluated for.</summary>
internal sealed class AttributeAccess(IOptions<AccessRulesOptions> options)
{
    private readonly AttributePolicy _policy = AttributePolicy.Compile(options.Value.Rules, new List<ValidationError>());

    public AttributePolicy Policy => _policy;

    /// <summary>Every claim of the token with all its values; <c>scope</c> split at spaces, so a rule can name one scope.</summary>
    public static SubjectAttributes Subject(ClaimsPrincipal user) => new(user.Claims.SelectMany(c => c.Type == AuditClaims.Scope
        ? c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => KeyValuePair.Create(c.Type, v))
        : [KeyValuePair.Create(c.Type, c.Value)]));

    /// <summary>The rules for <paramref name="user"/> doing <paramref name="action"/>; null without rules.</summary>
    public AttributeGrant? Grant(ClaimsPrincipal user, string action) => _policy.Enabled ? _policy.For(Subject(user), action) : null;

    /// <summary>The refusal when rules deny <paramref name="user"/> the action outright, naming the rule; null when it may try.</summary>
    public Api.ProblemError? Refusal(ClaimsPrincipal user, string action)
    {
        if (!_policy.Enabled)
        {
            return null;
        }

        var decision = _policy.Explain(Subject(user), action, null);
        return decision.Allowed ? null : RefusalOf(decision);
    }

    /// <summary>The problem detail error of a refused decision: field <c>rule</c>, the rule's name and the reason.</summary>
    public static Api.ProblemError RefusalOf(AttributeDecision decision) => new(null, "rule", $"{decision.Rule}: {decision.Reason}");

    /// <summary>The caller's access scope: role and tenant, narrowed by the rules for <paramref name="action"/> (null: not narrowed).</summary>
    public AccessScope Scope(ClaimsPrincipal user, string? action)
    {
        var role = user.GetRole() ?? Role.User;
        var scope = user.HasAllTenants() ? AccessScope.ForAllTenants(role) : AccessScope.ForTenant(role, user.GetTenant() ?? "");
        return scope.WithGrant(action is null ? null : Grant(user, action));
    }
}

/// <summary>
/// Part of an endpoint's policy: the attribute rules must let the caller attempt <see cref="Action"/> at all (events are
/// then checked one by one); <see cref="AuthorizationProblems"/> names the deciding rule.
/// </summary>
internal sealed class AttributeActionRequirement(string action) : IAuthorizationRequirement
{
    public string Action { get; } = action;
}

/// <summary>Succeeds <see cref="AttributeActionRequirement"/> when no rules are configured or they let the caller attempt the action.</summary>
internal sealed class AttributeActionHandler(AttributeAccess access) : AuthorizationHandler<AttributeActionRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, AttributeActionRequirement requirement)
    {
        if (context.User.Identity?.IsAuthenticated == true && access.Refusal(context.User, requirement.Action) is null)
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}

/// <summary>Registers the attribute rules: options validated at start, the compiled rules, and one policy per action.</summary>
internal static class AttributeRulesRegistration
{
    /// <summary>The endpoint policy that checks the rules for <paramref name="action"/>.</summary>
    public static string PolicyFor(string action) => $"rules:{action}";

    public static IServiceCollection AddAttributeRules(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<IValidateOptions<AccessRulesOptions>, AccessRulesOptionsValidator>();
        services.AddOptions<AccessRulesOptions>().Bind(configuration.GetSection(AccessRulesOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<AttributeAccess>();
        services.AddSingleton<IAuthorizationHandler, AttributeActionHandler>();
        services.Configure<AuthorizationOptions>(o =>
        {
            foreach (var action in AuthorizationActions.All)
            {
                o.AddPolicy(PolicyFor(action), p => p.RequireAuthenticatedUser().AddRequirements(new AttributeActionRequirement(action)));
            }
        });
        return services;
    }
}
