namespace AuditStream.Security;

/// <summary>The role table of DESIGN.md §5: which message kinds each role receives, and who may read <c>pii</c>.</summary>
public static class RolePermissions
{
    /// <summary>Whether <paramref name="role"/> receives messages of <paramref name="kind"/>.</summary>
    public static bool Receives(Role role, MessageKind kind) => (role, kind) switch
    {
        (Role.Admin, _) => true,
        (Role.Security, MessageKind.AuditEvent or MessageKind.SecurityAlert or MessageKind.ComplianceAlert) => true,
        (Role.Compliance, MessageKind.AuditEvent or MessageKind.ComplianceAlert) => true,
        (Role.Operator, MessageKind.AuditEvent or MessageKind.SystemAlert) => true,
        (Role.Auditor, MessageKind.AuditEvent) => true,
        _ => false,
    };

    /// <summary>
    /// Whether <paramref name="role"/> sees <c>pii</c> unmasked: admin, and compliance (who answers data-subject requests).
    /// Security, operator and auditor work from pseudonymous ids; auditors in particular verify the trail, not the people in it.
    /// </summary>
    public static bool CanReadPii(Role role) => role is Role.Admin or Role.Compliance;
}
