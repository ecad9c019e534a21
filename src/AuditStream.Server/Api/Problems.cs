namespace AuditStream.Server.Api;

/// <summary>RFC 7807 problem details for the API's expected failures; <c>type</c> URIs name the failure.</summary>
internal static class Problems
{
    private const string TypeBase = "https://auditstream.dev/problems/";

    public static IResult Invalid(string detail, IReadOnlyList<ProblemError> errors) =>
        Problem(StatusCodes.Status400BadRequest, "invalid-events", "The request has invalid events; nothing was written.", detail, errors);

    public static IResult InvalidQuery(IReadOnlyList<ProblemError> errors) =>
        Problem(StatusCodes.Status400BadRequest, "invalid-query", "The query has invalid parameters.", $"{errors.Count} invalid query parameter(s).", errors);

    public static IResult BadRequest(string detail, string field, string rule) =>
        Problem(StatusCodes.Status400BadRequest, "bad-request", "The request is malformed.", detail, [new ProblemError(null, field, rule)]);

    public static IResult TooLarge(string detail) =>
        Problem(StatusCodes.Status413PayloadTooLarge, "too-large", "The request is too large; nothing was written.", detail);

    public static IResult UnsupportedMediaType(string? contentType) =>
        Problem(StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", "Unsupported media type.",
            $"Content-Type '{contentType ?? "(none)"}' is not accepted: send application/json (one event or an array) or application/x-ndjson.");

    public static IResult Busy(int retryAfterSeconds) =>
        WithRetryAfter(Problem(StatusCodes.Status429TooManyRequests, "ledger-busy", "The ledger is busy; nothing was written.",
            "The ledger's write queue is full. Retry after the delay in Retry-After."), retryAfterSeconds);

    public static IResult Unavailable(string detail, int retryAfterSeconds) =>
        WithRetryAfter(Problem(StatusCodes.Status503ServiceUnavailable, "ledger-unavailable", "The ledger cannot accept writes; nothing was written.", detail), retryAfterSeconds);

    /// <summary>409: ids already used in the caller's tenant by other content (the seq is the caller's own event).</summary>
    public static IResult IdConflict(IReadOnlyList<AuditStream.Ledger.Writing.IdConflict> conflicts) =>
        Problem(StatusCodes.Status409Conflict, "id-conflict", "An event id is already used with different content; nothing was written.",
            $"{conflicts.Count} event(s) reuse an id with different content. Re-send the original content to get its receipt, or use a new id.",
            conflicts.Select(c => new ProblemError(c.Index, "id", c.Existing is { } existing
                ? $"is already used in this tenant by the event at seq {existing.Seq} with different content"
                : "is used, in this request or one being committed with it, by an event with different content")).ToArray());

    /// <summary>421: a forwarded append reached an instance that does not lead the ledger (the sender asks the leader row again).</summary>
    public static IResult NotLeader(string detail) =>
        Problem(StatusCodes.Status421MisdirectedRequest, "not-leader", "This instance does not lead the ledger; nothing was written.", detail,
            [new ProblemError(null, "leader", "forwarded appends must go to the instance the leader row names")]);

    /// <summary>503: a follower could not hand an append to a leader within AuditStream:Cluster:ForwardTimeout.</summary>
    public static IResult NoLeader(string detail, int retryAfterSeconds) =>
        WithRetryAfter(Problem(StatusCodes.Status503ServiceUnavailable, "no-leader", "No leader acknowledged the events.", detail,
            [new ProblemError(null, "leader", "a leader with AuditStream:Cluster:AdvertisedUrl must be reachable within AuditStream:Cluster:ForwardTimeout")]), retryAfterSeconds);

    public static IResult NotFound(string detail) =>
        Problem(StatusCodes.Status404NotFound, "not-found", "Not found.", detail);

    public static IResult Unauthorized(string detail, IReadOnlyList<ProblemError> errors) =>
        Problem(StatusCodes.Status401Unauthorized, "unauthorized", "Unauthorized.", detail, errors);

    public static IResult Forbidden(string detail, IReadOnlyList<ProblemError>? errors = null) =>
        Problem(StatusCodes.Status403Forbidden, "forbidden", "Forbidden.", detail, errors);

    /// <summary>A stream connection refused by one of the hub's connection limits; <paramref name="rule"/> names the limit and its key.</summary>
    public static IResult StreamLimit(int status, string detail, string field, string rule, int retryAfterSeconds = 5) =>
        WithRetryAfter(Problem(status, "stream-connection-limit", "A stream connection limit is reached.", detail, [new ProblemError(null, field, rule)]), retryAfterSeconds);

    /// <summary>429: a layer of the rate limits (AuditStream:RateLimits) is used up; names the class, the layer and the key's kind, never its value.</summary>
    public static IResult RateLimited(string requestClass, string layer, string field, string rule, int retryAfterSeconds) =>
        WithRetryAfter(Results.Problem(
            detail: $"The per-{layer} limit on {requestClass} is used up; nothing was accepted. Retry after {retryAfterSeconds} s.",
            statusCode: StatusCodes.Status429TooManyRequests,
            title: "A rate limit is reached.",
            type: TypeBase + "rate-limited",
            extensions: new Dictionary<string, object?>
            {
                ["errors"] = new[] { new ProblemError(null, field, rule) },
                ["limit"] = new Dictionary<string, string> { ["class"] = requestClass, ["layer"] = layer },
            }), retryAfterSeconds);

    private static IResult Problem(int status, string type, string title, string detail, IReadOnlyList<ProblemError>? errors = null) =>
        Results.Problem(
            detail: detail,
            statusCode: status,
            title: title,
            type: TypeBase + type,
            extensions: errors is null ? null : new Dictionary<string, object?> { ["errors"] = errors.ToArray() });

    private static RetryAfterResult WithRetryAfter(IResult inner, int seconds) => new(inner, seconds);

    private sealed class RetryAfterResult(IResult inner, int seconds) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return inner.ExecuteAsync(httpContext);
        }
    }
}
