namespace AuditStream.AspNetCore;

/// <summary>
/// Marks an endpoint (controller, action, or minimal API through <c>.WithAudit(…)</c>) whose requests are recorded as
/// the domain event <see cref="EventType"/>, always: neither sampling nor exclusion rules apply.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method | AttributeTargets.Delegate, AllowMultiple = false)]
public sealed class AuditedAttribute(string eventType) : Attribute
{
    /// <summary>The dotted event type, e.g. <c>consent.revoke</c>.</summary>
    public string EventType { get; } = eventType;

    /// <summary>The event's category.</summary>
    /// <value>Default: the middleware's <see cref="AuditMiddlewareOptions.Category"/>.</value>
    public string? Category { get; set; }

    /// <summary>The severity of a successful request (failures are <c>warning</c> or <c>error</c>).</summary>
    /// <value>Default: <c>info</c>.</value>
    public string? Severity { get; set; }

    /// <summary>The route value naming the resource acted on (e.g. <c>id</c>), recorded as <c>target_id</c>.</summary>
    /// <value>Default: none (the route template is the target).</value>
    public string? TargetRouteValue { get; set; }
}
