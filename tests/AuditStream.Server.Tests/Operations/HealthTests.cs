using System.Net;
using System.Text.Json.Nodes;
using AuditStream.Ledger.Tests.Support;
using AuditStream.Server.Hosting;
using AuditStream.Server.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace AuditStream.Server.Tests.Operations;

public sealed class HealthTests
{
    [Fact]
    public async Task Live_ready_and_startup_answer_200_with_every_check_named_and_no_token_needed()
    {
        await using var server = await TestServer.StartAsync();
        using var client = server.Client();
        foreach (var path in (string[])["live", "ready", "startup"])
        {
            using var response = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await Json.ReadAsync(response);
            Assert.Equal("healthy", body["status"]!.GetValue<string>());
            Assert.Empty(body["failing"]!.AsArray());
        }

        var ready = await GetAsync(client, "ready");
        Assert.Equal(["backplane", "ledger_cluster", "ledger_open", "ledger_store", "ledger_witnessing", "ledger_writable", "ledger_writer"], ready.Body["checks"]!.AsObject().Select(c => c.Key).Order().ToArray());
        Assert.StartsWith("role leader", ready.Body["checks"]!["ledger_cluster"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
        var startup = await GetAsync(client, "startup");
        Assert.Equal(["ledger_open"], startup.Body["checks"]!.AsObject().Select(c => c.Key).ToArray());
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Ready_turns_503_naming_ledger_writable_when_the_ledger_file_becomes_read_only_and_back()
    {
        await using var server = await TestServer.StartAsync();
        using var client = server.Client();
        var file = Path.Combine(server.DataDirectory, "ledger.db");
        var mode = File.GetUnixFileMode(file);
        try
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            var (status, body) = await GetAsync(client, "ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal(["ledger_writable"], body["failing"]!.AsArray().Select(f => f!.GetValue<string>()).ToArray());
            Assert.Contains("read-only", body["checks"]!["ledger_writable"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);

            using var live = await client.GetAsync("live");
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
        finally
        {
            File.SetUnixFileMode(file, mode);
        }

        Assert.Equal(HttpStatusCode.OK, (await GetAsync(client, "ready")).Status);
    }

    [Fact]
    public async Task Ready_turns_503_when_a_commit_fails_and_back_after_the_next_commit_succeeds()
    {
        GatedStore? store = null;
        await using var server = await TestServer.StartAsync(services: s => s.AddSingleton(new LedgerStoreDecorator(inner => store = new GatedStore(inner))));
        using var client = server.Client();
        using var producer = server.Producer();

        store!.FailNextCommits = 1;
        using (var failed = await producer.PostAsync("api/v1/events", Json.Content(Json.Event(1))))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        }

        var (status, body) = await GetAsync(client, "ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("ledger_writable", body["failing"]![0]!.GetValue<string>());
        Assert.Contains("simulated disk failure", body["checks"]!["ledger_writable"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);

        await Json.PostEventsAsync(producer, Json.Event(2));
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(client, "ready")).Status);
    }

    [Fact]
    public async Task A_pod_taken_out_of_traffic_by_a_failed_commit_becomes_ready_again_after_the_failure_window()
    {
        GatedStore? store = null;
        await using var server = await TestServer.StartAsync(
            new Dictionary<string, string?> { ["AuditStream:Operations:CommitFailureWindow"] = "00:00:00.300" },
            s => s.AddSingleton(new LedgerStoreDecorator(inner => store = new GatedStore(inner))));
        using var client = server.Client();
        using var producer = server.Producer();

        store!.FailNextCommits = 1;
        using (var failed = await producer.PostAsync("api/v1/events", Json.Content(Json.Event(1))))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await GetAsync(client, "ready")).Status);
        await PollAsync(client, r => r.Status == HttpStatusCode.OK);
        Assert.True(server.Ledger.Writer.Status.LastCommitFailed);
    }

    [Fact]
    public async Task Ready_turns_503_naming_ledger_writer_while_a_commit_is_stalled()
    {
        GatedStore? store = null;
        await using var server = await TestServer.StartAsync(
            new Dictionary<string, string?> { ["AuditStream:Operations:WriterStallTimeout"] = "00:00:00.050" },
            s => s.AddSingleton(new LedgerStoreDecorator(inner => store = new GatedStore(inner))));
        using var client = server.Client();
        using var producer = server.Producer();

        store!.Close();
        var pending = producer.PostAsync("api/v1/events", Json.Content(Json.Event(1)));
        await store.CommitEntered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var stalled = await PollAsync(client, r => r.Status == HttpStatusCode.ServiceUnavailable);
        Assert.Equal(["ledger_writer"], stalled["failing"]!.AsArray().Select(f => f!.GetValue<string>()).ToArray());
        Assert.Contains("stalled", stalled["checks"]!["ledger_writer"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);

        store.Release();
        using (var done = await pending)
        {
            Assert.Equal(HttpStatusCode.Created, done.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await GetAsync(client, "ready")).Status);
    }

    internal static async Task<(HttpStatusCode Status, JsonNode Body)> GetAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        return (response.StatusCode, await Json.ReadAsync(response));
    }

    internal static async Task<JsonNode> PollAsync(HttpClient client, Func<(HttpStatusCode Status, JsonNode Body), bool> done)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            var result = await GetAsync(client, "ready");
            if (done(result))
            {
                return result.Body;
            }

            try
            {
                await Task.Delay(20, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"/ready did not reach the awaited state within 20 s; it last answered {(int)result.Status} {result.Body.ToJsonString()}");
            }
        }
    }
}
