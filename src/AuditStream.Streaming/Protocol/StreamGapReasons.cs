namespace AuditStream.Streaming.Protocol;

/// <summary>The <c>reason</c> values of <c>audit.stream.gap</c> (DESIGN.md §5).</summary>
internal static class StreamGapReasons
{
    /// <summary>The client's <c>RateLimitPerSecond</c> or <c>RateLimitPerMinute</c> was spent.</summary>
    public const string RateLimited = "rate_limited";
}
