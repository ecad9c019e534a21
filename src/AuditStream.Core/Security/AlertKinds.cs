using AuditStream.Events;

namespace AuditStream.Security;

/// <summary>
/// Which committed events are alerts (DESIGN.md §1, alert rules write alert events back into the ledger) and of which
/// kind: an event whose <c>type</c> starts with <c>alert.</c> and whose <c>category</c> is <c>security</c>,
/// <c>compliance</c> or <c>system</c>. The stream sends such an event as <c>audit.{category}.alert</c> to the roles that
/// receive that kind, and to nobody as <c>audit.event.published</c>; the rule's details are in <c>metadata.alert</c>.
/// </summary>
public static class AlertKinds
{
    /// <summary>The type prefix that marks an alert event.</summary>
    public const string TypePrefix = "alert.";

    /// <summary>Whether <paramref name="e"/> is an alert, and the message kind it is delivered as.</summary>
    public static bool TryGetKind(AuditEvent e, out MessageKind kind)
    {
        ArgumentNullException.ThrowIfNull(e);
        kind = MessageKind.AuditEvent;
        if (e.Type is not { } type || !type.StartsWith(TypePrefix, StringComparison.Ordinal))
        {
            return false;
        }

        switch (e.Category)
        {
            case "security":
                kind = MessageKind.SecurityAlert;
                return true;
            case "compliance":
                kind = MessageKind.ComplianceAlert;
                return true;
            case "system":
                kind = MessageKind.SystemAlert;
                return true;
            default:
                return false;
        }
    }

    /// <summary>The stream message <c>type</c> of an alert kind: <c>audit.security.alert</c>, <c>audit.compliance.alert</c> or <c>audit.system.alert</c>.</summary>
    public static string MessageType(MessageKind kind) => kind switch
    {
        MessageKind.SecurityAlert => "audit.security.alert",
        MessageKind.ComplianceAlert => "audit.compliance.alert",
        MessageKind.SystemAlert => "audit.system.alert",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not an alert kind."),
    };
}
