using AuditStream.Events;
using AuditStream.Security.Attributes;

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

    /// <summary>
    /// The attribute rules that narrow what this scope sees for the action it was made for (DESIGN.md §5, "attribute
    /// policies from configuration may narrow further"), or null when no rules are configured.
    /// </summary>
    public AttributeGrant? Grant { get; private init; }

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

    /// <summary>This scope narrowed by <paramref name="grant"/> (null: no attribute rules).</summary>
    public AccessScope WithGrant(AttributeGrant? grant) => this with { Grant = grant };

    /// <summary>Whether the attribute rules let this scope see <paramref name="e"/> (true without rules).</summary>
    public bool PassesRules(AuditEvent e) => Grant is null || Grant.Allows(e);

    /// <summary>Whether the role receives messages of <paramref name="kind"/>.</summary>
    public bool Receives(MessageKind kind) => RolePermissions.Receives(Role, kind);

    /// <summary>
    /// Whether the client may be sent <paramref name="e"/>: its role receives audit events and the event is in its tenant
    /// (ordinal comparison), and the attribute rules allow it. An event without a tenant is visible only to all-tenant scopes.
    /// </summary>
    public bool CanSee(AuditEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return Receives(MessageKind.AuditEvent) && CoversTenant(e.TenantId) && PassesRules(e);
    }

    /// <summary>Whether the scope covers <paramref name="tenantId"/> (ordinal); a missing tenant is covered only by all-tenant scopes.</summary>
    public bool CoversTenant(string? tenantId) => TenantId is null || string.Equals(TenantId, tenantId, StringComparison.Ordinal);
}
