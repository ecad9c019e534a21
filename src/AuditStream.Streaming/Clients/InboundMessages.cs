using AuditStream.Filters;
using AuditStream.Streaming.Hub;
using AuditStream.Streaming.Protocol;

namespace AuditStream.Streaming.Clients;

/// <summary>
/// What a client sends, once its transport has read a whole message (DESIGN.md §5): the inbound rate limit, then the
/// answer to each message: <c>ping</c> → <c>audit.connection.pong</c>, <c>update_filters</c> → the filter changes and
/// <c>audit.connection.filters_updated</c> is queued in order with events, <c>resume</c> → the replay restarts, anything
/// else → <c>audit.error</c> naming the field. Called by the transport's read loop only, one message at a time.
/// </summary>
/// <remarks>Takes no lock of its own; a filter change runs under the fan-out's lock and then the client's gate (that order).</remarks>
internal sealed class InboundMessages
{
    private readonly ClientConnection _connection;
    private readonly HubOptions _options;
    private readonly TimeProvider _time;
    private readonly InboundRateLimit _limit;
    private long _lastMessageTicks;

    public InboundMessages(ClientConnection connection, HubOptions options, TimeProvider time)
    {
        _connection = connection;
        _options = options;
        _time = time;
        _limit = new InboundRateLimit(options.MaxInboundMessagesPerSecond, options.MaxInboundViolations, time);
    }

    /// <summary>UTC ticks of the last message read, or 0 before the first.</summary>
    public long LastMessageTicks => Volatile.Read(ref _lastMessageTicks);

    /// <summary>
    /// Counts one message against <see cref="HubOptions.MaxInboundMessagesPerSecond"/>; false means the transport must
    /// drop it (the client was told with <c>audit.error</c> <c>rate_limited</c>, or is being closed with 1008 for persistent abuse).
    /// </summary>
    public bool Admit()
    {
        Volatile.Write(ref _lastMessageTicks, _time.GetUtcNow().UtcTicks);
        switch (_limit.Admit())
        {
            case InboundVerdict.Accept:
                return true;
            case InboundVerdict.Warn:
                _connection.Reply(ServerMessages.Error(
                    StreamErrorCodes.RateLimited,
                    $"At most {_options.MaxInboundMessagesPerSecond} messages per second; the rest of this second's messages are ignored.",
                    null));
                return false;
            case InboundVerdict.Close:
                _connection.RequestClose(StreamCloseCodes.PolicyViolation, StreamCloseCodes.PolicyViolationDescription);
                return false;
            default:
                return false;
        }
    }

    /// <summary>Answers one admitted message (its UTF-8 JSON).</summary>
    public Task HandleAsync(ReadOnlySpan<byte> json) => HandleAsync(ClientMessage.Parse(json, _options.MaxFiltersPerClient));

    private async Task HandleAsync(ClientMessage message)
    {
        switch (message.Kind)
        {
            case ClientMessageKind.Ping:
                _connection.Reply(ServerMessages.Pong(_time.GetUtcNow()));
                break;
            case ClientMessageKind.UpdateFilters:
                _connection.ChangeFilter(CompiledFilter.Compile(message.Filter!, _time));
                break;
            case ClientMessageKind.Resume:
                await _connection.ResumeAsync(message.SinceSeq, message.LedgerId);
                break;
            default:
                _connection.Reply(ServerMessages.Error(message.ErrorCode!, message.ErrorMessage!, message.ErrorField));
                break;
        }
    }
}
