using System.Text.Json;
using AuditStream.Ledger.Privacy;
using AuditStream.Server.Auth;
using AuditStream.Server.Hosting;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Api;

/// <summary>
/// <c>GET /api/v1/retention/preview</c> (dry run) and <c>POST /api/v1/retention/apply</c>: the configured retention rules
/// within the caller's tenant (admin only; an all-tenant admin sees every tenant or names one with <c>tenant_id</c>).
/// </summary>
internal static class RetentionEndpoints
{
    public static void MapRetention(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/retention/preview", (HttpContext http, LedgerService ledgers, IOptions<AuditStream.Ledger.LedgerOptions> options, TimeProvider time, AuditStream.Server.Operations.RetentionMetrics metrics, CancellationToken ct) =>
            RunAsync(http, ledgers, options, time, metrics, apply: false, ct)).RequireAuthorization(AuditClaims.AdminPolicy);
        app.MapPost("/api/v1/retention/apply", (HttpContext http, LedgerService ledgers, IOptions<AuditStream.Ledger.LedgerOptions> options, TimeProvider time, AuditStream.Server.Operations.RetentionMetrics metrics, CancellationToken ct) =>
            RunAsync(http, ledgers, options, time, metrics, apply: true, ct)).RequireAuthorization(AuditClaims.AdminPolicy);
    }

    private static async Task<IResult> RunAsync(HttpContext http, LedgerService ledgers, IOptions<AuditStream.Ledger.LedgerOptions> options, TimeProvider time, AuditStream.Server.Operations.RetentionMetrics metrics, bool apply, CancellationToken cancellationToken)
    {
        var user = http.User;
        var named = http.Request.Query["tenant_id"].ToString();
        string? tenant = user.HasAllTenants() ? (named.Length > 0 ? named : null) : user.GetTenant()!;
        var sweep = new RetentionSweep(ledgers.Ledger, options.Value.Privacy.Retention, time);
        RetentionResult result;
        try
        {
            result = await sweep.RunAsync(tenant, apply, cancellationToken);
        }
        catch (InvalidOperationException e)
        {
            return Problems.Unavailable(e.Message, 1);
        }

        metrics.Ran(result);

        return Results.Json(new
        {
            applied = result.Applied,
            subjects = result.Subjects.Count,
            events = result.Events.Select(c => new { tenant_id = c.TenantId, category = c.Category, events = c.Events }),
        }, new JsonSerializerOptions(JsonSerializerDefaults.Web));
    }
}
