using System.Globalization;
using System.Text.Json;
using AuditStream.Events;
using Polly.CircuitBreaker;

namespace AuditStream.Sinks.Runtime;

/// <summary>The runner's status, and the batch in flight as its cursor state records it.</summary>
public sealed partial class SinkRunner
{
    /// <summary>Position, lag, owner, counters (of this instance), breaker and last error.</summary>
    public async Task<SinkStatus> GetStatusAsync(CancellationToken cancellationToken)
    {
        // On an instance that does not run the sink, the position is the one the running instance saved.
        var ownership = await GetOwnershipAsync(cancellationToken).ConfigureAwait(false);
        var position = ownership.Position;
        var head = _ledger.Feed.LastSeq;
        var lagSeconds = 0.0;
        if (head > position)
        {
            // The oldest event not yet handled: in the ring when the sink is close behind, else in the store.
            if (!_ledger.Feed.TryGet(position + 1, out var oldest))
            {
                await foreach (var stored in _ledger.Store.ReadRangeAsync(position + 1, position + 1, cancellationToken).ConfigureAwait(false))
                {
                    oldest = stored;
                }
            }

            if (oldest is not null)
            {
                lagSeconds = Math.Max(0, (_time.GetUtcNow() - oldest.Timestamp).TotalSeconds);
            }
        }

        var breaker = _sink.Http?.CircuitState ?? CircuitState.Closed;
        var error = _lastError;
        return new SinkStatus(
            Name,
            _sink.Kind,
            position,
            Math.Max(0, head - position),
            lagSeconds,
            Delivered,
            Failures,
            Retries,
            await _state.CountDeadLettersAsync(Name, cancellationToken).ConfigureAwait(false),
            breaker switch
            {
                CircuitState.Open => "open",
                CircuitState.HalfOpen => "half_open",
                CircuitState.Isolated => "isolated",
                _ => "closed",
            },
            error?.Message,
            error?.At,
            ownership.Owner,
            ownership.LeaseExpiresAt);
    }

    /// <summary>The cursor state saved just before a batch is sent: the last seq the batch covers.</summary>
    private static string InFlightState(long through) =>
        string.Create(CultureInfo.InvariantCulture, $"{{\"in_flight_through\":{through}}}");

    /// <summary>The last seq of the batch in flight per a saved cursor state; 0 when none was in flight.</summary>
    private static long InFlightThrough(string? state)
    {
        if (string.IsNullOrEmpty(state))
        {
            return 0;
        }

        try
        {
            using var json = JsonDocument.Parse(state);
            return json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty("in_flight_through", out var through)
                && through.TryGetInt64(out var seq) ? seq : 0;
        }
        catch (JsonException)
        {
            return 0;
        }
    }
}
