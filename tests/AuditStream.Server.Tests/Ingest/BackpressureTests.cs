using System.Net;
using AuditStream.Ledger.Tests.Support;
using AuditStream.Server.Hosting;
using AuditStream.Server.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace AuditStream.Server.Tests.Ingest;

public sealed class BackpressureTests
{
    [Fact]
    public async Task A_full_ledger_queue_is_429_with_retry_after_and_a_failing_disk_is_503()
    {
        GatedStore? holding = null;
        await using var server = await TestServer.StartAsync(
            new Dictionary<string, string?> { ["AuditStream:Ledger:MaxQueuedEvents"] = "3" },
            services => services.AddSingleton(new LedgerStoreDecorator(s => holding = new GatedStore(s))));
        using var client = server.Producer();

        holding!.Close();
        var first = client.PostAsync("api/v1/events", Json.Content("[" + Json.Event(1) + "," + Json.Event(2) + "]"));
        await holding.CommitEntered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        using var refused = await client.PostAsync("api/v1/events", Json.Content("[" + Json.Event(3) + "," + Json.Event(4) + "]"));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter!.Delta);
        holding.Release();
        using (var ok = await first)
        {
            Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        }

        holding.FailNextCommits = 1;
        using var failed = await client.PostAsync("api/v1/events", Json.Content(Json.Event(5)));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        Assert.NotNull(failed.Headers.RetryAfter);
        Assert.Equal(2, server.Ledger.Head.Size);

        using var after = await client.PostAsync("api/v1/events", Json.Content(Json.Event(6)));
        Assert.Equal(HttpStatusCode.Created, after.StatusCode);
        Assert.Equal(3, (await Json.ReadAsync(after))["seq"]!.GetValue<long>());
    }
}
