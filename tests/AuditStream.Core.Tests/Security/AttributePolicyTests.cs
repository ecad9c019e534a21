using System.Text.Json;
using AuditStream.Events;
using AuditStream.Security;
using AuditStream.Security.Attributes;
using AuditStream.Validation;

namespace AuditStream.Core.Tests.Security;

public sealed class AttributePolicyTests
{
    private static AttributeRule Rule(string name, string action, string? effect = null, (string, string[])[]? subject = null, (string, string[])[]? resource = null) => new()
    {
        Name = name,
        Effect = effect ?? AttributeEffects.Allow,
        Actions = [action],
        Subject = (subject ?? []).ToDictionary(s => s.Item1, s => s.Item2.ToList()),
        Resource = (resource ?? []).ToDictionary(r => r.Item1, r => r.Item2.ToList()),
    };

    private static AttributePolicy Compile(params AttributeRule[] rules)
    {
        var errors = new List<ValidationError>();
        var policy = AttributePolicy.Compile(rules, errors);
        Assert.Empty(errors);
        return policy;
    }

    private static SubjectAttributes Subject(params (string Claim, string Value)[] claims) => new(claims.Select(c => KeyValuePair.Create(c.Claim, c.Value)));

    private static AuditEvent Event(string category, string severity = "info", string type = "data.accessed", string tenant = "acme", string? metadata = null) => new()
    {
        Category = category,
        Severity = severity,
        Type = type,
        TenantId = tenant,
        Metadata = metadata is null ? null : JsonDocument.Parse(metadata).RootElement.Clone(),
    };

    [Fact]
    public void Without_rules_nothing_is_narrowed()
    {
        var policy = Compile();
        Assert.False(policy.Enabled);
        Assert.Null(policy.For(Subject(("role", "auditor")), AuthorizationActions.Query));
        Assert.Equal(AttributePolicy.NoRules, policy.Explain(Subject(), AuthorizationActions.Query, null).Rule);
    }

    [Fact]
    public void With_rules_an_action_no_rule_covers_is_denied_by_default()
    {
        var policy = Compile(Rule("sec", AuthorizationActions.Query, subject: [("department", ["security"])], resource: [("category", ["security"])]));
        var sales = policy.For(Subject(("department", "sales")), AuthorizationActions.Query)!;
        Assert.False(sales.AllowsRequest);
        Assert.False(sales.Allows(Event("security")));
        Assert.Equal(AttributePolicy.DefaultDeny, policy.Explain(Subject(("department", "sales")), AuthorizationActions.Query, null).Rule);

        // The rule is for queries only: the same subject exporting is denied by default.
        Assert.False(policy.For(Subject(("department", "security")), AuthorizationActions.Export)!.AllowsRequest);
    }

    [Fact]
    public void An_allow_rule_shows_only_events_matching_every_resource_condition()
    {
        var policy = Compile(Rule("sec", AuthorizationActions.Subscribe, subject: [("department", ["security"])],
            resource: [("category", ["security"]), ("type", ["auth.*", "security.incident"]), ("tenant", ["acme"])]));
        var grant = policy.For(Subject(("department", "security")), AuthorizationActions.Subscribe)!;
        Assert.True(grant.AllowsRequest);
        Assert.True(grant.Allows(Event("security", type: "auth.failure")));
        Assert.True(grant.Allows(Event("security", type: "security.incident")));
        Assert.False(grant.Allows(Event("security", type: "security.scan")));
        Assert.False(grant.Allows(Event("data", type: "auth.failure")));
        Assert.False(grant.Allows(Event("security", type: "auth.failure", tenant: "globex")));
    }

    [Fact]
    public void A_matching_deny_rule_wins_over_an_allow()
    {
        var policy = Compile(
            Rule("all", AuthorizationActions.Any),
            Rule("no-critical-for-interns", AuthorizationActions.Any, AttributeEffects.Deny, [("groups", ["interns"])], [("severity", ["critical"])]));
        var intern = Subject(("groups", "staff"), ("groups", "interns"));
        var grant = policy.For(intern, AuthorizationActions.Export)!;
        Assert.True(grant.AllowsRequest);
        Assert.True(grant.Allows(Event("data")));
        Assert.False(grant.Allows(Event("data", "critical")));
        var decision = policy.Explain(intern, AuthorizationActions.Export, Event("data", "critical"));
        Assert.False(decision.Allowed);
        Assert.Equal("no-critical-for-interns", decision.Rule);
        Assert.Equal(["matched", "matched"], decision.Trace.Select(t => t.Outcome));
    }

    [Fact]
    public void An_unconditional_deny_refuses_the_request_itself()
    {
        var policy = Compile(Rule("all", AuthorizationActions.Any), Rule("contractors-no-export", AuthorizationActions.Export, AttributeEffects.Deny, [("employment", ["contractor"])]));
        Assert.False(policy.For(Subject(("employment", "contractor")), AuthorizationActions.Export)!.AllowsRequest);
        Assert.True(policy.For(Subject(("employment", "contractor")), AuthorizationActions.Query)!.AllowsRequest);
        Assert.Equal("contractors-no-export", policy.Explain(Subject(("employment", "contractor")), AuthorizationActions.Export, null).Rule);
    }

    [Fact]
    public void Metadata_paths_compliance_tags_and_any_value_are_resource_attributes()
    {
        var policy = Compile(Rule("eu", AuthorizationActions.Query, subject: [("region", ["*"])], resource: [("metadata.region", ["eu-*"]), ("compliance", ["gdpr"])]));
        var grant = policy.For(Subject(("region", "anything")), AuthorizationActions.Query)!;
        Assert.True(grant.Allows(Event("data", metadata: """{"region":"eu-west"}""") with { Compliance = ["sox", "gdpr"] }));
        Assert.False(grant.Allows(Event("data", metadata: """{"region":"us-east"}""") with { Compliance = ["gdpr"] }));
        Assert.False(grant.Allows(Event("data", metadata: """{"region":"eu-west"}""")));
        Assert.False(policy.For(Subject(), AuthorizationActions.Query)!.AllowsRequest);
    }

    [Fact]
    public void The_explanation_says_why_each_rule_did_or_did_not_apply()
    {
        var policy = Compile(
            Rule("sec", AuthorizationActions.Query, subject: [("department", ["security"])], resource: [("category", ["security"])]),
            Rule("ops", AuthorizationActions.Query, subject: [("department", ["ops"])]));
        var decision = policy.Explain(Subject(("department", "security")), AuthorizationActions.Query, Event("data"));
        Assert.False(decision.Allowed);
        Assert.Equal(AttributePolicy.DefaultDeny, decision.Rule);
        Assert.Equal("sec wants category = security", decision.Trace[0].Reason);
        Assert.Equal("not_applicable", decision.Trace[1].Outcome);
        Assert.Equal("ops wants claim department = ops; the token has security", decision.Trace[1].Reason);
        Assert.Equal("sec", policy.Explain(Subject(("department", "security")), AuthorizationActions.Query, Event("security")).Rule);
    }

    [Fact]
    public void Every_mistake_in_a_rule_is_named_by_its_key()
    {
        var errors = new List<ValidationError>();
        AttributePolicy.Compile(
        [
            new AttributeRule { Name = "a", Effect = "maybe", Actions = ["read"], Resource = new() { ["categroy"] = ["x"], ["pii"] = ["y"], ["severity"] = [] } },
            new AttributeRule { Name = "a", Actions = [] , Subject = new() { ["department"] = [""] } },
            new AttributeRule { Actions = ["query"] },
        ], errors);
        Assert.Equal(
            ["0:Effect", "0:Actions", "0:Resource:categroy", "0:Resource:pii", "0:Resource:severity", "1:Name", "1:Actions", "1:Subject:department", "2:Name"],
            errors.Select(e => e.Field));
        Assert.Contains("'read' is not an action", errors[1].Rule, StringComparison.Ordinal);
    }

    [Fact]
    public void A_scope_with_a_grant_sees_only_what_the_grant_allows_on_top_of_its_tenant()
    {
        var policy = Compile(Rule("sec", AuthorizationActions.Query, resource: [("category", ["security"])]));
        var scope = AccessScope.ForTenant(Role.Auditor, "acme").WithGrant(policy.For(Subject(), AuthorizationActions.Query));
        Assert.True(scope.CanSee(Event("security")));
        Assert.False(scope.CanSee(Event("data")));
        Assert.False(scope.CanSee(Event("security", tenant: "globex")));
    }
}
