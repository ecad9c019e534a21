using System.Text.Json.Serialization;
using AuditStream.Server.Api;
using AuditStream.Server.Auth;
using AuditStream.Server.Auth.Attributes;
using AuditStream.Sinks.Runtime;

namespace AuditStream.Server.Sinks;

/// <summary>Admin endpoints of the sinks: status, dead letters, re-drive.</summary>
internal static class SinkEndpoints
{
    private const int MaxPage = 1000;

    public static void MapSinks(this IEndpointRouteBuilder app)
    {
        // Sinks forward every tenant's events: their status, dead letters (seqs, ids, errors) and re-drive are server-wide.
        var rules = AttributeRulesRegistration.PolicyFor(AuditStream.Security.Attributes.AuthorizationActions.SinksAdmin);
        app.MapGet("/api/v1/sinks", ListAsync).RequireAuthorization(AuditClaims.ServerAdminPolicy, rules);
        app.MapGet("/api/v1/sinks/{name}/dead-letters", DeadLettersAsync).RequireAuthorization(AuditClaims.ServerAdminPolicy, rules);
        app.MapPost("/api/v1/sinks/{name}/dead-letters/redrive", Redrive).RequireAuthorization(AuditClaims.ServerAdminPolicy, rules);
    }

    private static async Task<IResult> ListAsync(SinksService sinks, CancellationToken cancellationToken)
    {
        var statuses = new List<SinkStatus>();
        foreach (var runner in sinks.Runners)
        {
            statuses.Add(await runner.GetStatusAsync(cancellationToken));
        }

        AlertsStatus? alerts = null;
        if (sinks.Alerts is { } evaluator)
        {
            var ownership = await evaluator.GetOwnershipAsync(cancellationToken);
            alerts = new AlertsStatus(ownership.Position, evaluator.Fired, evaluator.Resolved, ownership.Owner, ownership.LeaseExpiresAt);
        }

        return Results.Json(new SinksResponse(statuses, alerts), SinksJsonContext.Default.SinksResponse);
    }

    private static async Task<IResult> DeadLettersAsync(string name, HttpRequest request, SinksService sinks, CancellationToken cancellationToken)
    {
        if (sinks.Find(name) is null)
        {
            return Problems.NotFound($"No sink is named '{name}'.");
        }

        if (!TryLong(request, "after_seq", 0, out var after) || after < 0)
        {
            return Problems.BadRequest("after_seq is the seq to list dead letters after.", "after_seq", "must be a non-negative integer");
        }

        if (!TryLong(request, "limit", 100, out var limit) || limit is < 1 or > MaxPage)
        {
            return Problems.BadRequest("limit bounds the page.", "limit", $"must be an integer between 1 and {MaxPage}");
        }

        var letters = await sinks.State.ListDeadLettersAsync(name, after, (int)limit, cancellationToken);
        var total = await sinks.State.CountDeadLettersAsync(name, cancellationToken);
        return Results.Json(new DeadLetterPage(letters, total), SinksJsonContext.Default.DeadLetterPage);
    }

    private static IResult Redrive(string name, HttpRequest request, SinksService sinks)
    {
        if (sinks.Find(name) is not { } runner)
        {
            return Problems.NotFound($"No sink is named '{name}'.");
        }

        var seqs = new List<long>();
        foreach (var value in request.Query["seq"])
        {
            if (!long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seq) || seq < 1)
            {
                return Problems.BadRequest("seq names a dead letter to re-drive (repeatable); without it every dead letter is re-driven.", "seq", "must be a positive integer");
            }

            seqs.Add(seq);
        }

        // The runner re-delivers before its next batch; progress shows in GET /api/v1/sinks and the dead-letter list.
        _ = runner.RedriveAsync(seqs.Count == 0 ? null : seqs);
        return Results.Json(new RedriveAccepted(name, seqs.Count == 0 ? null : seqs), SinksJsonContext.Default.RedriveAccepted, statusCode: StatusCodes.Status202Accepted);
    }

    private static bool TryLong(HttpRequest request, string key, long fallback, out long value)
    {
        value = fallback;
        var text = request.Query[key].ToString();
        return text.Length == 0 || long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value);
    }
}

/// <summary><c>GET /api/v1/sinks</c>.</summary>
/// <param name="Sinks">One entry per running sink.</param>
/// <param name="Alerts">The alert evaluator, when rules are configured.</param>
internal sealed record SinksResponse(IReadOnlyList<SinkStatus> Sinks, AlertsStatus? Alerts);

/// <summary>The alert evaluator's progress.</summary>
/// <param name="Position">Every event up to this seq has been evaluated.</param>
/// <param name="Fired">Alerts raised by the rules on this instance since it started.</param>
/// <param name="Resolved">Alerts of the rules resolved on this instance since it started.</param>
/// <param name="Owner">The instance id running the evaluator (holding its lease), or null while nobody does.</param>
/// <param name="LeaseExpiresAt">When that lease expires unless renewed; null on SQLite.</param>
internal sealed record AlertsStatus(long Position, long Fired, long Resolved, string? Owner, DateTimeOffset? LeaseExpiresAt);

/// <summary>A page of dead letters.</summary>
/// <param name="DeadLetters">In seq order.</param>
/// <param name="Total">How many the sink has in all.</param>
internal sealed record DeadLetterPage(IReadOnlyList<DeadLetter> DeadLetters, long Total);

/// <summary>A re-drive was queued.</summary>
/// <param name="Sink">The sink.</param>
/// <param name="Seqs">The seqs asked for, or null for all.</param>
internal sealed record RedriveAccepted(string Sink, IReadOnlyList<long>? Seqs);

/// <summary>Source-generated JSON for the sink endpoints (snake_case).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(SinksResponse))]
[JsonSerializable(typeof(DeadLetterPage))]
[JsonSerializable(typeof(RedriveAccepted))]
internal sealed partial class SinksJsonContext : JsonSerializerContext;
