using System.Net;
using AuditStream.Ledger.Tests.Support;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Operations;

/// <summary><c>/ready</c> on a shared ledger: PostgreSQL unreachable takes the instance out of traffic, and back.</summary>
[Collection(OnPostgres.Name)]
public sealed class PostgresHealthTests(PostgresServer postgres)
{
    [Fact]
    public async Task Ready_turns_503_naming_ledger_store_while_postgres_is_stopped_and_200_once_it_runs_again()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Ledger:Provider"] = "Postgres",
            ["AuditStream:Ledger:ConnectionString"] = await postgres.CreateLedgerAsync(),
            ["AuditStream:Operations:StoreProbeTimeout"] = "00:00:01",
            ["AuditStream:Operations:StoreProbeCacheTime"] = "00:00:00.050",
        });
        using var client = server.Client();
        await Json.PostEventsAsync(server.Producer(), Json.Event(1));
        var ready = await HealthTests.PollAsync(client, r => r.Status == HttpStatusCode.OK);
        Assert.Contains("answered in", ready["checks"]!["ledger_store"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);

        try
        {
            await postgres.StopAsync();
            var down = await HealthTests.PollAsync(client, r => r.Status == HttpStatusCode.ServiceUnavailable);
            Assert.Contains("ledger_store", down["failing"]!.AsArray().Select(f => f!.GetValue<string>()));
            Assert.Contains("unreachable", down["checks"]!["ledger_store"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);

            using var live = await client.GetAsync("live");
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
        finally
        {
            await postgres.StartAsync();
        }

        var back = await HealthTests.PollAsync(client, r => r.Status == HttpStatusCode.OK);
        Assert.Empty(back["failing"]!.AsArray());
    }
}
