namespace AuditStream.Security;

/// <summary>The kinds of stream message that roles are granted (DESIGN.md §5); connection messages are always allowed.</summary>
public enum MessageKind
{
    /// <summary><c>audit.event.published</c>.</summary>
    AuditEvent,

    /// <summary><c>audit.security.alert</c>.</summary>
    SecurityAlert,

    /// <summary><c>audit.compliance.alert</c>.</summary>
    ComplianceAlert,

    /// <summary><c>audit.system.alert</c>.</summary>
    SystemAlert,
}
