namespace AuditStream.Streaming.Clients;

/// <summary>What became of one record offered to a client.</summary>
internal enum OfferResult
{
    /// <summary>Not for this client: another tenant, a role that does not receive it, skipped by the rate limit, or closing.</summary>
    Skipped,

    /// <summary>The client's filter did not want it.</summary>
    Filtered,

    /// <summary>Its frame is in the client's queue.</summary>
    Queued,

    /// <summary>The client's queue is full.</summary>
    Full,
}
