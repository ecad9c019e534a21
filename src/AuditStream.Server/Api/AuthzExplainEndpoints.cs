using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using AuditStream.Events;
using AuditStream.Security;
using AuditStream.Security.Attributes;
using AuditStream.Server.Auth;
using AuditStream.Server.Auth.Attributes;
using AuditStream.Server.Hosting;

namespace AuditStream.Server.Api;

/// <summary>
/// <c>GET /api/v1/authz/explain?action=query&amp;seq=N</c> (or <c>&amp;resource.category=security…</c>): which check or
/// rule allows or denies an action, on one event or at all, and why. Any caller explains itself; an admin may explain
/// another subject with <c>subject.&lt;claim&gt;=value</c> (repeatable). The event is looked up in the caller's own
/// tenant, so no other tenant's event is described; an event the caller's rules hide is explained without its attributes.
/// </summary>
internal static class AuthzExplainEndpoints
{
    private const string SubjectPrefix = "subject.";
    private const string ResourcePrefix = "resource.";

    /// <summary>The deciding check when the role does not allow the action.</summary>
    public const string RoleCheck = "role_permissions";

    /// <summary>The deciding check when the event is another tenant's.</summary>
    public const string TenantCheck = "tenant_isolation";

    public static void MapAuthzExplain(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/v1/authz/explain", ExplainAsync).RequireAuthorization();

    private static async Task<IResult> ExplainAsync(HttpContext http, LedgerService ledgers, AttributeAccess access, Microsoft.Extensions.Options.IOptions<AuthOptions> auth, CancellationToken cancellationToken)
    {
        var query = http.Request.Query;
        var action = query["action"].ToString();
        if (!AuthorizationActions.IsKnown(action))
        {
            return Problems.BadRequest($"Unknown action '{action}'.", "action", $"must be one of {string.Join(", ", AuthorizationActions.All)}");
        }

        var caller = http.User;
        var named = query.Where(q => q.Key.StartsWith(SubjectPrefix, StringComparison.Ordinal) && q.Key.Length > SubjectPrefix.Length).ToList();
        if (named.Count > 0 && caller.GetRole() != Role.Admin)
        {
            return Problems.Forbidden("Only an admin explains another subject; explain yourself without subject.* parameters.",
                [new ProblemError(null, named[0].Key, "may be given by role admin only: other roles explain their own token")]);
        }

        var subject = named.Count > 0
            ? new ClaimsPrincipal(new ClaimsIdentity(named.SelectMany(q => q.Value.Select(v => new Claim(q.Key[SubjectPrefix.Length..], v ?? ""))), "explain", "sub", AuditClaims.Role))
            : caller;

        AuditEvent? resource = null;
        if (query["seq"].ToString() is { Length: > 0 } rawSeq)
        {
            if (!long.TryParse(rawSeq, NumberStyles.None, CultureInfo.InvariantCulture, out var seq) || seq < 1)
            {
                return Problems.BadRequest("seq names the event to explain.", "seq", "must be a positive integer");
            }

            // Looked up with the caller's own tenant: another tenant's event answers 404, exactly like GET /api/v1/events/{seq}.
            var record = await ledgers.Ledger.Store.GetAsync(seq, cancellationToken);
            if (record is null || !access.Scope(caller, null).CoversTenant(record.Event.TenantId))
            {
                return Problems.NotFound($"No event with seq {seq} is visible to this token.");
            }

            resource = record.Event;
        }
        else if (ResourceFromQuery(http.Request.Query, subject.GetTenant(), out var error) is { } described)
        {
            resource = described;
        }
        else if (error is not null)
        {
            return error;
        }

        var explanation = Explain(access, auth.Value, subject, action, resource);

        // The caller learns an event's attributes only when it may see them (or is an admin of its tenant).
        var showResource = resource is not null && (caller.GetRole() == Role.Admin || (named.Count == 0 && explanation.Allowed));
        return new ExplanationResult(action, explanation, AttributeAccess.Subject(subject), showResource ? resource : null);
    }

    /// <summary>Role, MFA, tenant, then the attribute rules: the first that refuses decides; otherwise the rules' allowing rule.</summary>
    internal static AttributeDecision Explain(AttributeAccess access, AuthOptions auth, ClaimsPrincipal subject, string action, AuditEvent? resource)
    {
        var scope = access.Scope(subject, null);
        var checks = new List<AttributeRuleTrace>();
        var roleAllows = action switch
        {
            AuthorizationActions.SinksAdmin => scope.Role == Role.Admin && scope.AllTenants,
            AuthorizationActions.Proof => true,
            _ => scope.Receives(MessageKind.AuditEvent),
        };
        var roleName = subject.FindFirst(AuditClaims.Role)?.Value ?? "(none)";
        var roleReason = roleAllows
            ? $"role {roleName} may {action}"
            : action == AuthorizationActions.SinksAdmin
                ? $"{action} needs role admin with tenants \"*\"; the token has role {roleName}"
                : $"{action} needs a role that receives audit events (admin, security, compliance, operator, auditor); the token has role {roleName}";
        checks.Add(new(RoleCheck, roleAllows ? AttributeEffects.Allow : AttributeEffects.Deny, roleAllows ? "matched" : "not_matched", roleReason));
        if (!roleAllows)
        {
            return new(false, RoleCheck, roleReason + ".", checks);
        }

        if (MultiFactor.IsPrivileged(subject, auth) && !MultiFactor.Satisfied(subject, auth))
        {
            var reason = $"role {roleName} is privileged (AuditStream:Auth:PrivilegedRoles): amr {MultiFactor.Demand(auth)}";
            checks.Add(new(MultiFactor.RuleName, AttributeEffects.Deny, "not_matched", reason));
            return new(false, MultiFactor.RuleName, reason + ".", checks);
        }

        if (TenantClaim.Problem(subject) is var (claim, rule))
        {
            var reason = $"the token's {claim} claim {rule}";
            checks.Add(new(TenantCheck, AttributeEffects.Deny, "not_matched", reason));
            return new(false, TenantCheck, reason + ".", checks);
        }

        if (resource is not null)
        {
            var covered = scope.CoversTenant(resource.TenantId);
            var reason = covered ? "the event is in the token's tenant" : "the event belongs to another tenant than the token's";
            checks.Add(new(TenantCheck, covered ? AttributeEffects.Allow : AttributeEffects.Deny, covered ? "matched" : "not_matched", reason));
            if (!covered)
            {
                return new(false, TenantCheck, $"Tenant isolation: {reason}.", checks);
            }
        }

        var decision = access.Policy.Explain(AttributeAccess.Subject(subject), action, resource);
        return decision with { Trace = [.. checks, .. decision.Trace] };
    }

    private static AuditEvent? ResourceFromQuery(IQueryCollection query, string? subjectTenant, out IResult? error)
    {
        error = null;
        var given = query.Where(q => q.Key.StartsWith(ResourcePrefix, StringComparison.Ordinal)).ToDictionary(q => q.Key[ResourcePrefix.Length..], q => q.Value.ToString(), StringComparer.Ordinal);
        if (given.Count == 0)
        {
            return null;
        }

        if (given.Keys.FirstOrDefault(k => k is not ("tenant" or "tenant_id" or "category" or "severity" or "type" or "compliance")) is { } unknown)
        {
            error = Problems.BadRequest($"resource.{unknown} cannot be described; name the event with seq instead.", $"resource.{unknown}",
                "must be resource.tenant, resource.category, resource.severity, resource.type or resource.compliance (comma-separated)");
            return null;
        }

        return new AuditEvent
        {
            // A described event without a tenant is taken to be in the subject's own tenant.
            TenantId = given.GetValueOrDefault("tenant") ?? given.GetValueOrDefault("tenant_id") ?? subjectTenant,
            Category = given.GetValueOrDefault("category"),
            Severity = given.GetValueOrDefault("severity"),
            Type = given.GetValueOrDefault("type"),
            Compliance = given.GetValueOrDefault("compliance")?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
        };
    }

    /// <summary><c>{"action", "allowed", "rule", "reason", "subject": {claim: [values]}, "resource": {…}|null, "checks": [{rule, effect, outcome, reason}]}</c>.</summary>
    private sealed class ExplanationResult(string action, AttributeDecision decision, SubjectAttributes subject, AuditEvent? resource) : IResult
    {
        private static readonly HashSet<string> s_tokenMechanics = new(StringComparer.Ordinal) { "exp", "nbf", "iat", "iss", "aud", "jti" };

        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.ContentType = "application/json; charset=utf-8";
            await using var writer = new Utf8JsonWriter(httpContext.Response.BodyWriter);
            writer.WriteStartObject();
            writer.WriteString("action", action);
            writer.WriteBoolean("allowed", decision.Allowed);
            writer.WriteString("rule", decision.Rule);
            writer.WriteString("reason", decision.Reason);
            writer.WriteStartObject("subject");
            foreach (var (claim, values) in subject.Values.Where(v => !s_tokenMechanics.Contains(v.Key)))
            {
                writer.WriteStartArray(claim);
                foreach (var value in values)
                {
                    writer.WriteStringValue(value);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
            if (resource is null)
            {
                writer.WriteNull("resource");
            }
            else
            {
                writer.WriteStartObject("resource");
                WriteOptional(writer, "seq", resource.Seq?.ToString(CultureInfo.InvariantCulture));
                WriteOptional(writer, "tenant_id", resource.TenantId);
                WriteOptional(writer, "category", resource.Category);
                WriteOptional(writer, "severity", resource.Severity);
                WriteOptional(writer, "type", resource.Type);
                writer.WriteEndObject();
            }

            writer.WriteStartArray("checks");
            foreach (var step in decision.Trace)
            {
                writer.WriteStartObject();
                writer.WriteString("rule", step.Rule);
                writer.WriteString("effect", step.Effect);
                writer.WriteString("outcome", step.Outcome);
                writer.WriteString("reason", step.Reason);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
            await writer.FlushAsync();
        }

        private static void WriteOptional(Utf8JsonWriter writer, string name, string? value)
        {
            if (value is not null)
            {
                writer.WriteString(name, value);
            }
        }
    }
}
