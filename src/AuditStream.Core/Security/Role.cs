namespace AuditStream.Security;

/// <summary>What a stream client is allowed to receive (DESIGN.md §5 role table); read from the token's role claim with <see cref="RoleNames"/>.</summary>
public enum Role
{
    /// <summary>Everything, including system alerts and debug endpoints.</summary>
    Admin,

    /// <summary>Audit events, security and compliance alerts.</summary>
    Security,

    /// <summary>Audit events and compliance alerts.</summary>
    Compliance,

    /// <summary>Audit events and system alerts.</summary>
    Operator,

    /// <summary>Audit events only.</summary>
    Auditor,

    /// <summary>Nothing but its own connection messages.</summary>
    User,
}
