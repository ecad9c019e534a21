namespace AuditStream.Events;

/// <summary>Reads a stored canonical body back into an <see cref="AuditEvent"/>.</summary>
public static class EventBody
{
    /// <summary>Parses a canonical body (event without <c>hash</c>).</summary>
    public static AuditEvent Parse(ReadOnlySpan<byte> body) => throw new NotImplementedException();
}
