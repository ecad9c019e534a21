using AuditStream.Events;
using AuditStream.Security;

namespace AuditStream.Core.Tests.Security;

public sealed class AccessScopeTests
{
    private static AuditEvent InTenant(string? tenant) => new() { Type = "data.accessed", Severity = "info", Category = "data", TenantId = tenant };

    [Fact]
    public void A_tenant_scope_sees_only_its_tenant()
    {
        var scope = AccessScope.ForTenant(Role.Auditor, "acme");

        Assert.True(scope.CanSee(InTenant("acme")));
        Assert.False(scope.CanSee(InTenant("globex")));
        Assert.False(scope.CanSee(InTenant("ACME")));
        Assert.False(scope.CanSee(InTenant("acme ")));
        Assert.False(scope.CanSee(InTenant(null)));
        Assert.False(scope.AllTenants);
        Assert.Equal("acme", scope.TenantId);
    }

    [Fact]
    public void An_all_tenant_scope_sees_every_tenant_and_untenanted_events()
    {
        var scope = AccessScope.ForAllTenants(Role.Security);

        Assert.True(scope.CanSee(InTenant("acme")));
        Assert.True(scope.CanSee(InTenant("globex")));
        Assert.True(scope.CanSee(InTenant(null)));
        Assert.True(scope.AllTenants);
    }

    [Fact]
    public void A_role_without_audit_events_sees_nothing_even_in_its_own_tenant()
    {
        Assert.False(AccessScope.ForTenant(Role.User, "acme").CanSee(InTenant("acme")));
        Assert.False(AccessScope.ForAllTenants(Role.User).CanSee(InTenant("acme")));
    }

    [Fact]
    public void Even_admin_is_held_to_its_tenant()
    {
        Assert.False(AccessScope.ForTenant(Role.Admin, "acme").CanSee(InTenant("globex")));
    }

    [Fact]
    public void A_tenant_scope_needs_a_tenant()
    {
        Assert.ThrowsAny<ArgumentException>(() => AccessScope.ForTenant(Role.Auditor, ""));
        Assert.ThrowsAny<ArgumentException>(() => AccessScope.ForTenant(Role.Auditor, null!));
    }
}
