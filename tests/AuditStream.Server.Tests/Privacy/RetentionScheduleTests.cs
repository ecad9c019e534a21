using System.Text.Json.Nodes;
using AuditStream.Ledger.Privacy;
using AuditStream.Server.Privacy;
using AuditStream.Server.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace AuditStream.Server.Tests.Privacy;

public sealed class RetentionScheduleTests
{
    private static Dictionary<string, string?> Settings(string? interval) => new()
    {
        ["AuditStream:Ledger:Privacy:Retention:0:Tenant"] = "acme",
        ["AuditStream:Ledger:Privacy:Retention:0:Categories:0"] = "compliance",
        ["AuditStream:Ledger:Privacy:Retention:0:MaxAge"] = "00:00:00",
        ["AuditStream:Ledger:Privacy:RetentionInterval"] = interval,
    };

    private static string Pii(int i, string subject, string marker) =>
        Json.Event(i, type: "consent.granted", category: "compliance", extra: $"\"subject_id\":\"{subject}\",\"pii\":{{\"email\":\"{marker}\"}}");

    [Fact]
    public async Task The_scheduled_sweep_shreds_a_past_due_subject_on_its_own_and_verification_still_passes()
    {
        await using var server = await TestServer.StartAsync(Settings("00:00:00.200"));
        var shredded = new TaskCompletionSource<RetentionResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Services.GetRequiredService<RetentionSchedule>().Completed += r =>
        {
            if (r.Subjects.Count > 0)
            {
                shredded.TrySetResult(r);
            }
        };
        using var acme = server.Producer();
        await Json.PostEventsAsync(acme, Pii(1, "s1", "ann@example.com"), Pii(2, "s1", "ann2@example.com"));

        var result = await shredded.Task.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(new RetentionSubject("acme", "s1"), Assert.Single(result.Subjects));
        Assert.Equal(2, Assert.Single(result.Events).Events);
        using var admin = server.Reader("admin", "acme");
        Assert.Equal("[erased]", JsonNode.Parse(await admin.GetStringAsync("api/v1/events/1"))!["pii"]!.GetValue<string>());
        var erasure = JsonNode.Parse(await admin.GetStringAsync("api/v1/events/3"))!;
        Assert.Equal("privacy.erasure.completed", erasure["type"]!.GetValue<string>());
        Assert.Equal(RetentionSweep.Actor, erasure["actor_id"]!.GetValue<string>());
        Assert.True((await server.Ledger.VerifyAsync()).IsValid);
        var scrape = await AuditStream.Server.Tests.Operations.PrometheusScrape.ReadWhenAsync(server, 2, "audit_retention_events_shredded_total");
        Assert.Equal(2, scrape.Value("audit_retention_events_shredded_total"));
        Assert.Equal(1, scrape.Value("audit_retention_subjects_shredded_total"));
        Assert.True(scrape.Value("audit_retention_scheduled_runs_total", ("outcome", "applied")) >= 1);
    }

    [Fact]
    public async Task Without_an_interval_nothing_is_shredded_by_itself()
    {
        await using var server = await TestServer.StartAsync(Settings(null));
        using var acme = server.Producer();
        await Json.PostEventsAsync(acme, Pii(1, "s1", "ann@example.com"));
        using var admin = server.Reader("admin", "acme");

        // The rule would shred it now (the dry run says so), but no schedule runs: a run would have appended seq 2.
        var preview = JsonNode.Parse(await admin.GetStringAsync("api/v1/retention/preview"))!;
        Assert.Equal(1, preview["subjects"]!.GetValue<int>());
        var schedule = server.Services.GetRequiredService<RetentionSchedule>();
        Assert.True(schedule.ExecuteTask?.IsCompleted ?? true);
        Assert.Equal(1, server.Ledger.Head.Size);
        Assert.Equal("ann@example.com", JsonNode.Parse(await admin.GetStringAsync("api/v1/events/1"))!["pii"]!["email"]!.GetValue<string>());
    }
}
