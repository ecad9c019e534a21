using AuditStream.Events;
using AuditStream.Filters;
using AuditStream.Validation;

namespace AuditStream.Security.Attributes;

/// <summary>
/// The configured attribute rules, compiled. With no rules it restricts nothing (roles and tenants decide alone); with
/// rules, an action is denied unless a rule allows it (deny by default), and a matching deny rule wins over any allow.
/// </summary>
public sealed class AttributePolicy
{
    /// <summary>The decision's rule when rules are configured and none allows: deny by default.</summary>
    public const string DefaultDeny = "default_deny";

    /// <summary>The decision's rule when no rules are configured.</summary>
    public const string NoRules = "no_rules";

    private static readonly Dictionary<string, string> s_aliases = new(StringComparer.Ordinal) { ["tenant"] = "tenant_id" };

    private readonly CompiledRule[] _rules;

    private AttributePolicy(CompiledRule[] rules) => _rules = rules;

    /// <summary>A policy with no rules.</summary>
    public static AttributePolicy None { get; } = new([]);

    /// <summary>Whether any rule is configured (and so deny by default is in force).</summary>
    public bool Enabled => _rules.Length > 0;

    /// <summary>The rules' names, in order.</summary>
    public IReadOnlyList<string> RuleNames => [.. _rules.Select(r => r.Name)];

    /// <summary>
    /// Compiles <paramref name="rules"/>, adding a <see cref="ValidationError"/> per mistake to <paramref name="errors"/>
    /// with the field as <c>{index}:{property}[:{key}]</c> (prefix it with the configuration section).
    /// </summary>
    public static AttributePolicy Compile(IReadOnlyList<AttributeRule> rules, ICollection<ValidationError> errors)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(errors);
        var compiled = new List<CompiledRule>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < rules.Count; i++)
        {
            if (Compile(rules[i], $"{i}", names, errors) is { } rule)
            {
                compiled.Add(rule);
            }
        }

        return new AttributePolicy([.. compiled]);
    }

    private static CompiledRule? Compile(AttributeRule rule, string at, HashSet<string> names, ICollection<ValidationError> errors)
    {
        var before = errors.Count;
        if (string.IsNullOrWhiteSpace(rule.Name))
        {
            errors.Add(new($"{at}:Name", "is required: refusals and explanations quote it"));
        }
        else if (!names.Add(rule.Name))
        {
            errors.Add(new($"{at}:Name", $"must be unique; '{rule.Name}' is used twice"));
        }

        var effect = rule.Effect?.Trim().ToLowerInvariant();
        if (effect is not (AttributeEffects.Allow or AttributeEffects.Deny))
        {
            errors.Add(new($"{at}:Effect", "must be allow or deny"));
        }

        if (rule.Actions is not { Count: > 0 })
        {
            errors.Add(new($"{at}:Actions", $"must name at least one action: {string.Join(", ", AuthorizationActions.All)} or *"));
        }
        else if (rule.Actions.FirstOrDefault(a => a != AuthorizationActions.Any && !AuthorizationActions.IsKnown(a)) is { } unknown)
        {
            errors.Add(new($"{at}:Actions", $"must be among {string.Join(", ", AuthorizationActions.All)} or *; '{unknown}' is not an action"));
        }

        var subject = new List<(string, string[])>();
        foreach (var (claim, values) in rule.Subject ?? [])
        {
            if (values is not { Count: > 0 } || values.Exists(string.IsNullOrWhiteSpace))
            {
                errors.Add(new($"{at}:Subject:{claim}", "must list at least one non-empty claim value (* for any)"));
                continue;
            }

            subject.Add((claim, [.. values]));
        }

        var resource = new List<CompiledRule.ResourceCondition>();
        foreach (var (attribute, values) in rule.Resource ?? [])
        {
            var field = s_aliases.GetValueOrDefault(attribute, attribute);
            if (!FieldPath.TryParse(field, out _, out var fieldRule))
            {
                errors.Add(new($"{at}:Resource:{attribute}", $"{fieldRule} (or tenant)"));
                continue;
            }

            if (values is not { Count: > 0 } || values.Exists(string.IsNullOrWhiteSpace))
            {
                errors.Add(new($"{at}:Resource:{attribute}", "must list at least one non-empty value (a trailing * for a prefix, * alone for present)"));
                continue;
            }

            resource.Add(new(attribute, [.. values], [.. values.Select(v => new CompiledPredicate(Predicate(field, v)))]));
        }

        if (errors.Count > before)
        {
            return null;
        }

        HashSet<string>? actions = rule.Actions!.Contains(AuthorizationActions.Any) ? null : new(rule.Actions!, StringComparer.Ordinal);
        return new CompiledRule(rule.Name!, effect == AttributeEffects.Deny, actions, [.. subject], [.. resource]);
    }

    private static MatchPredicate Predicate(string field, string value) => value switch
    {
        "*" => MatchPredicate.Create(field, "exists"),
        [.., '*'] => MatchPredicate.Create(field, "prefix", value[..^1]),
        _ => MatchPredicate.Create(field, "eq", value),
    };

    /// <summary>The rules that apply to <paramref name="subject"/> doing <paramref name="action"/>; null when no rules are configured.</summary>
    public AttributeGrant? For(SubjectAttributes subject, string action)
    {
        ArgumentNullException.ThrowIfNull(subject);
        if (!Enabled)
        {
            return null;
        }

        var applicable = _rules.Where(r => r.AppliesTo(subject, action, out _)).ToArray();
        return new AttributeGrant([.. applicable.Where(r => r.IsDeny)], [.. applicable.Where(r => !r.IsDeny)]);
    }

    /// <summary>
    /// Why <paramref name="subject"/> may or may not do <paramref name="action"/> on <paramref name="resource"/> (or at all,
    /// when it is null), naming the deciding rule; the same decision as <see cref="For"/> and <see cref="AttributeGrant.Allows"/>.
    /// </summary>
    public AttributeDecision Explain(SubjectAttributes subject, string action, AuditEvent? resource)
    {
        ArgumentNullException.ThrowIfNull(subject);
        if (!Enabled)
        {
            return new(true, NoRules, "No attribute rules are configured (AuditStream:Authorization:Rules): roles and tenants decide alone.", []);
        }

        var trace = new List<AttributeRuleTrace>();
        CompiledRule? deniedBy = null;
        CompiledRule? allowedBy = null;
        foreach (var rule in _rules)
        {
            if (!rule.AppliesTo(subject, action, out var whyNot))
            {
                trace.Add(new(rule.Name, rule.Effect, "not_applicable", $"{rule.Name} {whyNot}"));
                continue;
            }

            var failed = resource is null ? null : rule.FailedCondition(resource);
            if (failed is not null || (resource is null && rule.IsDeny && !rule.Unconditional))
            {
                trace.Add(new(rule.Name, rule.Effect, "not_matched", failed is null ? $"{rule.Name} is about events with {rule.DescribeResource()}" : $"{rule.Name} {failed}"));
                continue;
            }

            trace.Add(new(rule.Name, rule.Effect, "matched", $"{rule.Name} {(rule.IsDeny ? "denies" : "allows")} {action} on {rule.DescribeResource()}"));
            if (rule.IsDeny)
            {
                deniedBy ??= rule;
            }
            else
            {
                allowedBy ??= rule;
            }
        }

        if (deniedBy is not null)
        {
            return new(false, deniedBy.Name, $"Rule {deniedBy.Name} denies {action} on {deniedBy.DescribeResource()}, whatever other rules allow.", trace);
        }

        if (allowedBy is not null)
        {
            var what = resource is null ? $"events with {allowedBy.DescribeResource()}" : "this event";
            return new(true, allowedBy.Name, $"Rule {allowedBy.Name} allows {action} on {what}.", trace);
        }

        var reason = resource is null
            ? $"No rule in AuditStream:Authorization:Rules allows {action} for this token, and rules deny by default."
            : $"No rule in AuditStream:Authorization:Rules allows {action} on this event for this token, and rules deny by default.";
        return new(false, DefaultDeny, reason, trace);
    }
}
