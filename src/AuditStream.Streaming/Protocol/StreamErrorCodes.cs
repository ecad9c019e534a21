namespace AuditStream.Streaming.Protocol;

/// <summary>The <c>code</c> values of <c>audit.error</c>.</summary>
public static class StreamErrorCodes
{
    /// <summary>The message is not a JSON object.</summary>
    public const string InvalidJson = "invalid_json";

    /// <summary>The message has no string <c>type</c>, or a field of the wrong shape.</summary>
    public const string InvalidMessage = "invalid_message";

    /// <summary>The <c>type</c> is not one the server knows.</summary>
    public const string UnknownType = "unknown_type";

    /// <summary>The message is larger than <c>MaxMessageSize</c>.</summary>
    public const string MessageTooLarge = "message_too_large";

    /// <summary>The filters of <c>update_filters</c> are invalid; <c>field</c> names the first bad one.</summary>
    public const string InvalidFilter = "invalid_filter";

    /// <summary>
    /// A resume named another ledger than the one this server serves (<c>ledger_id</c>): its seqs count in another log, so
    /// nothing is sent until the client resumes on this ledger (or without a ledger id, starting over).
    /// </summary>
    public const string LedgerMismatch = "ledger_mismatch";

    /// <summary>Binary frames are not part of the protocol.</summary>
    public const string BinaryNotSupported = "binary_not_supported";

    /// <summary>The client sent more messages per second than <c>MaxInboundMessagesPerSecond</c>; the excess was ignored.</summary>
    public const string RateLimited = "rate_limited";
}
