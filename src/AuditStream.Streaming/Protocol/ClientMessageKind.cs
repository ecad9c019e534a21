namespace AuditStream.Streaming.Protocol;

/// <summary>The client → server message types of DESIGN.md §5.</summary>
internal enum ClientMessageKind
{
    /// <summary>The message could not be used; <see cref="ClientMessage.ErrorCode"/> says why.</summary>
    Invalid,

    /// <summary><c>{"type":"ping"}</c>.</summary>
    Ping,

    /// <summary><c>{"type":"update_filters","filters":{…}}</c>.</summary>
    UpdateFilters,

    /// <summary><c>{"type":"resume","since_seq":N}</c>.</summary>
    Resume,
}
