using System.Net;
using AuditStream.Ledger;
using AuditStream.Ledger.Tests.Support;
using AuditStream.Server.Hosting;
using AuditStream.Server.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Tests.Operations;

public sealed class GracefulShutdownTests
{
    [Fact]
    public async Task Stopping_with_commits_in_flight_loses_no_acknowledged_event_and_signs_a_final_checkpoint()
    {
        var data = Directory.CreateTempSubdirectory("auditstream-shutdown-");
        try
        {
            GatedStore? store = null;
            var server = await TestServer.StartAsync(
                new Dictionary<string, string?>
                {
                    ["AuditStream:Operations:DrainTimeout"] = "00:00:20",
                    ["AuditStream:Ledger:CheckpointInterval"] = "01:00:00",
                },
                s => s.AddSingleton(new LedgerStoreDecorator(inner => store = new GatedStore(inner))),
                dataDirectory: data.FullName);
            Assert.Equal(TimeSpan.FromSeconds(20), server.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);

            // Commits are held while requests pile up; the stop signal releases them, as a slow disk would finish its fsync.
            store!.Close();
            server.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(store.Release);
            using var producer = server.Producer();
            var requests = Enumerable.Range(0, 40)
                .Select(r => producer.PostAsync("api/v1/events", Json.Content("[" + string.Join(',', Enumerable.Range(r * 5, 5).Select(i => Json.Event(i))) + "]")))
                .ToList();
            await store.CommitEntered.Task.WaitAsync(TimeSpan.FromSeconds(20));
            await server.DisposeAsync();

            var acknowledged = new List<(long Seq, string Hash)>();
            foreach (var request in requests)
            {
                try
                {
                    using var response = await request;
                    if (response.StatusCode == HttpStatusCode.Created)
                    {
                        foreach (var receipt in (await Json.ReadAsync(response))["events"]!.AsArray())
                        {
                            acknowledged.Add((receipt!["seq"]!.GetValue<long>(), receipt["hash"]!.GetValue<string>()));
                        }
                    }
                }
                catch (HttpRequestException)
                {
                    // Not accepted before the server stopped listening: never acknowledged, so free to be missing.
                }
            }

            Assert.NotEmpty(acknowledged);
            await using var reopened = await AuditLedger.OpenAsync(new LedgerOptions { DataDirectory = data.FullName, CheckpointInterval = TimeSpan.FromHours(1) });
            foreach (var (seq, hash) in acknowledged)
            {
                var record = await reopened.Store.GetAsync(seq, CancellationToken.None);
                Assert.NotNull(record);
                Assert.Equal(hash, Convert.ToHexStringLower(record!.Hash));
            }

            var checkpoint = await reopened.Store.GetLatestCheckpointAsync(CancellationToken.None);
            Assert.NotNull(checkpoint);
            Assert.Equal(reopened.Head.Size, checkpoint!.TreeSize);
            Assert.True(reopened.Head.Size >= acknowledged.Max(a => a.Seq));
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }
}
