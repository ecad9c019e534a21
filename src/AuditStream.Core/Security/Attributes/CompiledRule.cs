using AuditStream.Events;
using AuditStream.Filters;

namespace AuditStream.Security.Attributes;

/// <summary>An <see cref="AttributeRule"/> checked and ready: subject conditions over claims, resource conditions as compiled match predicates.</summary>
internal sealed class CompiledRule
{
    private readonly HashSet<string>? _actions;
    private readonly (string Claim, string[] Values)[] _subject;
    private readonly ResourceCondition[] _resource;

    public CompiledRule(string name, bool deny, HashSet<string>? actions, (string Claim, string[] Values)[] subject, ResourceCondition[] resource)
    {
        Name = name;
        IsDeny = deny;
        _actions = actions;
        _subject = subject;
        _resource = resource;
    }

    public string Name { get; }

    public bool IsDeny { get; }

    public string Effect => IsDeny ? AttributeEffects.Deny : AttributeEffects.Allow;

    /// <summary>True when the rule names no event attribute: it decides the request, whatever the event.</summary>
    public bool Unconditional => _resource.Length == 0;

    /// <summary>Whether the rule is about <paramref name="action"/> done by <paramref name="subject"/>; otherwise why not.</summary>
    public bool AppliesTo(SubjectAttributes subject, string action, out string? whyNot)
    {
        if (_actions is not null && !_actions.Contains(action))
        {
            whyNot = $"covers actions {string.Join(", ", _actions.Order(StringComparer.Ordinal))}, not {action}";
            return false;
        }

        foreach (var (claim, values) in _subject)
        {
            var held = subject.Get(claim);
            if (held.Count == 0)
            {
                whyNot = $"wants claim {claim} ({Describe(values)}); the token has none";
                return false;
            }

            if (!values.Contains("*", StringComparer.Ordinal) && !held.Any(h => values.Contains(h, StringComparer.Ordinal)))
            {
                whyNot = $"wants claim {claim} {Describe(values)}; the token has {string.Join(", ", held)}";
                return false;
            }
        }

        whyNot = null;
        return true;
    }

    /// <summary>Whether every resource condition holds for <paramref name="e"/> (hot path: no allocation).</summary>
    public bool Matches(AuditEvent e)
    {
        foreach (var condition in _resource)
        {
            if (!condition.Holds(e))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The first resource condition <paramref name="e"/> fails, as a sentence fragment; null when all hold.</summary>
    public string? FailedCondition(AuditEvent e) =>
        _resource.FirstOrDefault(c => !c.Holds(e)) is { } failed ? $"wants {failed.Attribute} {Describe(failed.Values)}" : null;

    /// <summary>The resource conditions, for a reason that says what the rule grants.</summary>
    public string DescribeResource() =>
        _resource.Length == 0 ? "every event" : string.Join(" and ", _resource.Select(c => $"{c.Attribute} {Describe(c.Values)}"));

    private static string Describe(string[] values) =>
        values.Length == 1 ? (values[0] == "*" ? "present" : $"= {values[0]}") : $"in [{string.Join(", ", values)}]";

    /// <summary>One attribute of <see cref="AttributeRule.Resource"/>: holds when any of its values does.</summary>
    internal sealed class ResourceCondition(string attribute, string[] values, CompiledPredicate[] predicates)
    {
        public string Attribute { get; } = attribute;

        public string[] Values { get; } = values;

        public bool Holds(AuditEvent e)
        {
            foreach (var predicate in predicates)
            {
                if (predicate.Matches(e))
                {
                    return true;
                }
            }

            return false;
        }
    }
}
