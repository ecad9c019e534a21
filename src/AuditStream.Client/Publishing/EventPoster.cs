using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using AuditStream.Events;

namespace AuditStream.Client.Publishing;

/// <summary>Posts batches to <c>POST /api/v1/events</c> and reads the receipts; classifies failures as retryable or not.</summary>
internal sealed class EventPoster(Func<HttpClient> httpClient, AuditStreamClientOptions options)
{
    private static readonly Uri s_events = new("api/v1/events", UriKind.Relative);
    private static readonly MediaTypeHeaderValue s_json = new("application/json");

    public async Task<IReadOnlyList<AuditReceipt>> PostAsync(IReadOnlyList<AuditEvent> events, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(events as List<AuditEvent> ?? [.. events], AuditJsonContext.Default.ListAuditEvent);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(options.Base, s_events));
        request.Content = new ByteArrayContent(body) { Headers = { ContentType = s_json } };
        await AuthorizeAsync(request, options, cancellationToken).ConfigureAwait(false);
        using var response = await httpClient().SendAsync(request, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
        {
            var parsed = JsonSerializer.Deserialize(text, ClientJsonContext.Default.IngestResponseDto)
                ?? throw new AuditStreamException("The server answered an ingest with an empty body.");
            if (parsed.Events.Count != events.Count)
            {
                throw new AuditStreamException($"The server answered {parsed.Events.Count} receipts for {events.Count} events.");
            }

            return [.. parsed.Events.Select(r => r.ToReceipt())];
        }

        throw Failure(response.StatusCode, text);
    }

    internal static async ValueTask AuthorizeAsync(HttpRequestMessage request, AuditStreamClientOptions options, CancellationToken cancellationToken)
    {
        var token = await TokenAsync(options, cancellationToken).ConfigureAwait(false);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    internal static async ValueTask<string?> TokenAsync(AuditStreamClientOptions options, CancellationToken cancellationToken) =>
        options.TokenProvider is { } provider ? await provider(cancellationToken).ConfigureAwait(false) : options.Token;

    internal static Exception Failure(HttpStatusCode status, string body)
    {
        ProblemDto? problem = null;
        try
        {
            problem = body.Length > 0 ? JsonSerializer.Deserialize(body, ClientJsonContext.Default.ProblemDto) : null;
        }
        catch (JsonException)
        {
        }

        var detail = problem?.Detail ?? problem?.Title ?? (body.Length > 200 ? body[..200] : body);
        // 400: invalid events; 409: ids already used with other content. Either way nothing was written, and resending
        // the named events can never succeed while the others can.
        if (status is HttpStatusCode.BadRequest or HttpStatusCode.Conflict && problem?.Errors is { Count: > 0 } errors)
        {
            return new InvalidEventsException(
                $"The server rejected the events: {string.Join("; ", errors.Select(e => $"[{e.Index}] {e.Field} {e.Rule}"))}",
                [.. errors.Where(e => e.Index is not null).Select(e => e.Index!.Value).Distinct()],
                body,
                status);
        }

        var advice = status switch
        {
            HttpStatusCode.Unauthorized => " Check the token: it is missing, expired or not signed by a key the server trusts.",
            HttpStatusCode.Forbidden => " The token lacks the scope audit:write or names another tenant.",
            HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable => " The ledger is busy or unavailable; retry later (ids make retries safe).",
            _ => "",
        };
        return new AuditStreamException($"{(int)status} {status}: {detail}.{advice}", status, body);
    }

    /// <summary>Failures worth retrying later: the server is down, busy, stopping, or the network failed.</summary>
    internal static bool IsTransient(Exception exception) => exception switch
    {
        InvalidEventsException => false,
        AuditStreamException { StatusCode: null } => false,
        AuditStreamException { StatusCode: { } status } => status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout
            or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden || (int)status >= 500,
        HttpRequestException or IOException or TimeoutException or TaskCanceledException => true,
        Polly.CircuitBreaker.BrokenCircuitException or Polly.Timeout.TimeoutRejectedException => true,
        _ => false,
    };
}

/// <summary>The server refused a batch because some events are invalid; nothing of the batch was written.</summary>
internal sealed class InvalidEventsException(string message, IReadOnlyList<int> indexes, string problem, HttpStatusCode status)
    : Exception(message)
{
    /// <summary>400 for invalid events, 409 for ids reused with other content.</summary>
    public HttpStatusCode Status { get; } = status;

    public IReadOnlyList<int> Indexes { get; } = indexes;

    public string Problem { get; } = problem;
}
