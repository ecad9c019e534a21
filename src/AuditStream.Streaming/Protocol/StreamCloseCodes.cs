namespace AuditStream.Streaming.Protocol;

/// <summary>WebSocket close codes and descriptions the stream uses (DESIGN.md §5).</summary>
public static class StreamCloseCodes
{
    /// <summary>The client's queue was full: it may reconnect with <c>since_seq</c> to lose nothing.</summary>
    public const int SlowConsumer = 4008;

    /// <summary>Description sent with <see cref="SlowConsumer"/>.</summary>
    public const string SlowConsumerDescription = "slow_consumer";

    /// <summary>RFC 6455 policy violation: the client kept sending faster than it may.</summary>
    public const int PolicyViolation = 1008;

    /// <summary>Close description sent with <see cref="PolicyViolation"/>.</summary>
    public const string PolicyViolationDescription = "policy_violation";

    /// <summary>The server is stopping (RFC 6455 1001).</summary>
    public const int GoingAway = 1001;

    /// <summary>Description sent with <see cref="GoingAway"/>.</summary>
    public const string GoingAwayDescription = "server_stopping";

    /// <summary>The server failed serving the client (RFC 6455 1011); it may reconnect with <c>since_seq</c>.</summary>
    public const int InternalError = 1011;

    /// <summary>Description sent with <see cref="InternalError"/>.</summary>
    public const string InternalErrorDescription = "internal_error";
}
