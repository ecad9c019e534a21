namespace AuditStream.Security.Attributes;

/// <summary>What the rules decided for one subject, action and (optionally) event, and which rule decided it.</summary>
/// <param name="Allowed">Whether the action is allowed.</param>
/// <param name="Rule">The deciding rule's name, or <see cref="AttributePolicy.DefaultDeny"/> / <see cref="AttributePolicy.NoRules"/>.</param>
/// <param name="Reason">Why, as a sentence.</param>
/// <param name="Trace">Each configured rule in order, with whether it applied and matched.</param>
public sealed record AttributeDecision(bool Allowed, string Rule, string Reason, IReadOnlyList<AttributeRuleTrace> Trace);

/// <summary>How one rule fared in an <see cref="AttributeDecision"/>.</summary>
/// <param name="Rule">The rule's name.</param>
/// <param name="Effect"><c>allow</c> or <c>deny</c>.</param>
/// <param name="Outcome"><c>not_applicable</c> (other subject or action), <c>matched</c> or <c>not_matched</c> (the event's attributes).</param>
/// <param name="Reason">Why.</param>
public sealed record AttributeRuleTrace(string Rule, string Effect, string Outcome, string Reason);
