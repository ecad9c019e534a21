namespace AuditStream.Streaming.Protocol;

/// <summary>One server → client message: its <c>type</c>, the seq it carries as an event id (published events only), and its UTF-8 JSON.</summary>
/// <param name="Type">The message's <c>type</c>, e.g. <c>audit.event.published</c>.</param>
/// <param name="EventId">The seq a client resumes after once it has this message, or null.</param>
/// <param name="Json">The message as one UTF-8 JSON object.</param>
internal sealed record StreamFrame(string Type, long? EventId, byte[] Json)
{
    /// <summary>Commit time of the event it carries (microseconds since the Unix epoch), or 0; for the delivery latency metric.</summary>
    public long CommittedAtMicros { get; init; }
}
