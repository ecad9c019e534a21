namespace AuditStream.Ledger.Storage;

/// <summary>
/// The idempotency key of an event: its <c>id</c> within its tenant. The same id in two tenants names two events, so one
/// tenant can neither suppress another's event nor learn that an id exists elsewhere.
/// </summary>
/// <param name="Tenant">The event's <c>tenant_id</c>; the empty string for an event stored without one.</param>
/// <param name="Id">The event's <c>id</c>.</param>
public readonly record struct EventKey(string Tenant, Guid Id)
{
    /// <summary>The key of an event of <paramref name="tenantId"/> (null for none) with <paramref name="id"/>.</summary>
    public static EventKey For(string? tenantId, Guid id) => new(tenantId ?? string.Empty, id);
}
