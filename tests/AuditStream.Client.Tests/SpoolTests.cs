using AuditStream.Client.Tests.Support;

namespace AuditStream.Client.Tests;

public sealed class SpoolTests
{
    [Fact]
    public async Task Spooled_events_survive_a_server_outage_and_a_client_restart_and_drain_oldest_first()
    {
        await using var server = await RestartableServer.StartAsync(running: false);
        var spool = Path.Combine(server.DataDirectory + "-spool");
        try
        {
            await using (var before = server.Client(server.ProducerToken(), o =>
            {
                o.SpoolDirectory = spool;
                o.SpoolSegmentBytes = 4 * 1024;
                o.ShutdownTimeout = TimeSpan.FromMilliseconds(50);
            }))
            {
                for (var i = 0; i < 300; i++)
                {
                    Assert.True(before.Enqueue(Sample.Event(i)));
                }
            }

            // The server never answered: everything is still on disk, in several segment files.
            Assert.True(Directory.GetFiles(spool).Length > 1);

            await server.StartAgainAsync();
            await using var after = server.Client(server.ProducerToken(), o => o.SpoolDirectory = spool);
            using var cts = Wait.Bounded();
            await after.FlushAsync(cts.Token);

            var stored = await server.ReadAllAsync();
            Assert.Equal(Enumerable.Range(0, 300).Select(i => $"user-{i}"), stored.Select(e => e["actor_id"]!.GetValue<string>()));
            Assert.Empty(Directory.GetFiles(spool));
        }
        finally
        {
            Directory.Delete(spool, recursive: true);
        }
    }

    [Fact]
    public async Task A_segment_sent_again_after_a_crash_is_deduplicated_by_id_and_a_torn_last_line_is_skipped()
    {
        await using var server = await RestartableServer.StartAsync();
        var spool = Path.Combine(server.DataDirectory + "-spool");
        Directory.CreateDirectory(spool);
        try
        {
            // What a process killed mid-drain leaves: a segment whose first half the server already committed, and a torn write.
            var events = Enumerable.Range(0, 20).Select(i => Sample.Event(i) with { Id = Guid.CreateVersion7() }).ToList();
            await using (var direct = server.Client(server.ProducerToken()))
            {
                await direct.PublishAsync(events.Take(10).ToList());
            }

            var lines = events.Select(e => System.Text.Json.JsonSerializer.Serialize(e, AuditStream.Events.AuditJsonContext.Default.AuditEvent));
            await File.WriteAllTextAsync(Path.Combine(spool, "0000000000000007.ndjson"), string.Join('\n', lines) + "\n{\"type\":\"data.acc");

            await using var client = server.Client(server.ProducerToken(), o => o.SpoolDirectory = spool);
            using var cts = Wait.Bounded();
            await client.FlushAsync(cts.Token);

            var stored = await server.ReadAllAsync();
            Assert.Equal(events.Select(e => e.Id!.Value.ToString()), stored.Select(e => e["id"]!.GetValue<string>()));
            Assert.Empty(Directory.GetFiles(spool));
        }
        finally
        {
            Directory.Delete(spool, recursive: true);
        }
    }

    [Fact]
    public async Task A_full_spool_drops_and_counts()
    {
        await using var server = await RestartableServer.StartAsync(running: false);
        var spool = Path.Combine(server.DataDirectory + "-spool");
        try
        {
            await using var client = server.Client(server.ProducerToken(), o =>
            {
                o.SpoolDirectory = spool;
                o.MaxSpoolBytes = 8 * 1024;
                o.SpoolSegmentBytes = 2 * 1024;
                o.ShutdownTimeout = TimeSpan.FromMilliseconds(50);
            });
            var accepted = Enumerable.Range(0, 200).Count(i => client.Enqueue(Sample.Event(i)));
            Assert.InRange(accepted, 20, 199);
            Assert.Equal(200 - accepted, client.DroppedEvents);
            Assert.True(Directory.GetFiles(spool).Sum(f => new FileInfo(f).Length) <= 8 * 1024);
        }
        finally
        {
            Directory.Delete(spool, recursive: true);
        }
    }
}

public sealed class SpoolKillTests
{
    [Fact]
    public async Task The_spool_survives_a_process_kill_mid_drain_and_a_new_client_sends_everything_exactly_once()
    {
        await using var server = await RestartableServer.StartAsync();
        var spool = Path.Combine(server.DataDirectory + "-spool");
        try
        {
            var host = AppContext.BaseDirectory.Replace("AuditStream.Client.Tests", "AuditStream.Client.SpoolHost", StringComparison.Ordinal);
            var start = new System.Diagnostics.ProcessStartInfo("dotnet", [Path.Combine(host, "AuditStream.Client.SpoolHost.dll"), server.BaseAddress.ToString(), server.ProducerToken(), spool])
            {
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            var accepted = new List<Guid>();
            using (var child = System.Diagnostics.Process.Start(start)!)
            {
                // Kill it while it is both appending and draining: some events are committed, some only spooled.
                using var cts = Wait.Bounded();
                while ((accepted.Count < 3_000 || server.Server.Ledger.Head.Size == 0) && await child.StandardOutput.ReadLineAsync(cts.Token) is { } line)
                {
                    accepted.Add(Guid.Parse(line));
                }

                child.Kill(entireProcessTree: true);
                await child.WaitForExitAsync(cts.Token);

                // What it printed before the kill but the test had not read yet was accepted too.
                accepted.AddRange((await child.StandardOutput.ReadToEndAsync(cts.Token)).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Guid.Parse));
            }

            Assert.True(accepted.Count >= 3_000);
            await using var after = server.Client(server.ProducerToken(), o => o.SpoolDirectory = spool);
            using (var cts = Wait.Bounded())
            {
                await after.FlushAsync(cts.Token);
            }

            // Everything Enqueue accepted is in the ledger once; what the child enqueued after its last printed line may be too.
            var stored = (await server.ReadAllAsync()).Select(e => Guid.Parse(e["id"]!.GetValue<string>())).ToList();
            Assert.Equal(stored.Count, stored.Distinct().Count());
            Assert.Empty(accepted.Except(stored));
            Assert.True(stored.Except(accepted).Count() <= 1);
        }
        finally
        {
            Directory.Delete(spool, recursive: true);
        }
    }
}
