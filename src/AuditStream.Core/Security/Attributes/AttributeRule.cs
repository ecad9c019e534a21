namespace AuditStream.Security.Attributes;

/// <summary>
/// One attribute-based access rule (AuditStream:Authorization:Rules): for callers whose token claims match
/// <see cref="Subject"/>, doing one of <see cref="Actions"/>, on events whose attributes match <see cref="Resource"/>,
/// the <see cref="Effect"/> applies. Rules only narrow what roles and tenants already allow; they never widen it.
/// </summary>
public sealed class AttributeRule
{
    /// <summary>The rule's name, quoted in refusals and by <c>GET /api/v1/authz/explain</c>.</summary>
    /// <value>Required.</value>
    public string? Name { get; set; }

    /// <summary><c>allow</c> or <c>deny</c>; a matching deny wins over any allow.</summary>
    /// <value>Default <c>allow</c>.</value>
    public string Effect { get; set; } = AttributeEffects.Allow;

    /// <summary>The actions it covers (<see cref="AuthorizationActions"/>), or <c>*</c> for all.</summary>
    /// <value>Required, at least one.</value>
    public List<string> Actions { get; set; } = [];

    /// <summary>
    /// Claim name to accepted values (any one; a claim with several values, such as <c>groups</c>, matches when any value
    /// does; <c>*</c> accepts any value, present). Every listed claim must match. Empty: every caller.
    /// </summary>
    /// <value>Default empty.</value>
    public Dictionary<string, List<string>> Subject { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Event attribute to accepted values: <c>tenant</c> (or <c>tenant_id</c>), <c>category</c>, <c>severity</c>,
    /// <c>type</c>, <c>compliance</c> (any tag), any other event field, <c>source.*</c> or <c>metadata.*</c>. A value ending
    /// in <c>*</c> is a prefix (<c>auth.*</c>). Every listed attribute must match. Empty: every event.
    /// </summary>
    /// <value>Default empty.</value>
    public Dictionary<string, List<string>> Resource { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>The effects of an <see cref="AttributeRule"/>.</summary>
public static class AttributeEffects
{
    /// <summary>The rule grants what it matches.</summary>
    public const string Allow = "allow";

    /// <summary>The rule refuses what it matches, whatever other rules allow.</summary>
    public const string Deny = "deny";
}
