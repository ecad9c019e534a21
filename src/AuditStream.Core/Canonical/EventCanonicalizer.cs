using AuditStream.Events;

namespace AuditStream.Canonical;

/// <summary>Turns a validated, classified event into a <see cref="PreparedEvent"/> (RFC 8785 canonical form, ledger fields left out).</summary>
public static class EventCanonicalizer
{
    /// <summary>Canonicalizes <paramref name="validated"/>, whose <c>id</c> must be set.</summary>
    public static PreparedEvent Prepare(AuditEvent validated, bool idSuppliedByProducer)
        => throw new NotImplementedException();
}
