using AuditStream.Events;

namespace AuditStream.Security;

/// <summary>
/// What one authenticated client may see: its role, and either one tenant or all of them (DESIGN.md §5, "a client sees only
/// its own tenant unless its token grants all tenants").
/// </summary>
public sealed record AccessScope
{
    private AccessScope(Role role, string? tenantId)
    {
        Role = role;
        TenantId = tenantId;
    }

    /// <summary>The client's role.</summary>
    public Role Role { get; }

    /// <summary>The one tenant the client may see, or null when it may see all tenants.</summary>
    public string? TenantId { get; }

    /// <summary>True when the token grants every tenant.</summary>
    public bool AllTenants => TenantId is null;

    /// <summary>Whether <c>pii</c> is delivered unmasked (<see cref="RolePermissions.CanReadPii"/>).</summary>
    public bool CanReadPii => RolePermissions.CanReadPii(Role);

    /// <summary>A scope limited to <paramref name="tenantId"/>.</summary>
    public static AccessScope ForTenant(Role role, string tenantId)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        return new(role, tenantId);
    }

    /// <summary>A scope over every tenant.</summary>
    public static AccessScope ForAllTenants(Role role) => new(role, null);

    /// <summary>Whether the role receives messages of <paramref name="kind"/>.</summary>
    public bool Receives(MessageKind kind) => RolePermissions.Receives(Role, kind);

    /// <summary>
    /// Whether the client may be sent <paramref name="e"/>: its role receives audit events and the event is in its tenant
    /// (ordinal comparison). An event without a tenant is visible only to all-tenant scopes.
    /// </summary>
    public bool CanSee(AuditEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return Receives(MessageKind.AuditEvent) && CoversTenant(e.TenantId);
    }

    /// <summary>Whether the scope covers <paramref name="tenantId"/> (ordinal); a missing tenant is covered only by all-tenant scopes.</summary>
    public bool CoversTenant(string? tenantId) => TenantId is null || string.Equals(TenantId, tenantId, StringComparison.Ordinal);
}
