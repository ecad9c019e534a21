using AuditStream.Ledger.Storage;
using System.Diagnostics;
using System.Globalization;
using AuditStream.Ledger.Sqlite;
using AuditStream.Ledger.Tests.Support;
using AuditStream.Ledger.Verification;

namespace AuditStream.Ledger.Tests.Durability;

public sealed class CrashTests
{
    [Fact]
    public async Task Every_event_acknowledged_before_a_kill_is_present_and_the_chain_verifies()
    {
        using var dir = new TempDirectory();
        var acked = new Dictionary<long, (Guid Id, string Hash)>();
        for (var round = 0; round < 2; round++)
        {
            // Two kills in a row: the second run must also restart cleanly from what the first left behind.
            await RunAndKillAsync(dir.Path, acked, stopAfterAcks: acked.Count + 15_000);
        }

        Assert.True(acked.Count >= 30_000, $"only {acked.Count} acknowledgements were seen");
        await using var store = new SqliteLedgerStore(Path.Combine(dir.Path, "ledger.db"));
        var head = await store.InitializeAsync(CancellationToken.None);
        Assert.True(head.LastSeq >= acked.Keys.Max());
        var found = await store.FindByIdsAsync(acked.Values.Select(a => new EventKey("crash", a.Id)).ToList(), CancellationToken.None);
        foreach (var (seq, (id, hash)) in acked)
        {
            Assert.True(found.TryGetValue(new EventKey("crash", id), out var match), $"acknowledged seq {seq} ({id}) is missing");
            var receipt = match.Receipt;
            Assert.Equal(seq, receipt.Seq);
            Assert.Equal(hash, receipt.HashHex);
        }

        var report = await new LedgerVerifier(store).VerifyAsync(new VerificationOptions(), CancellationToken.None);
        Assert.True(report.IsValid, report.ToString());
        Assert.Equal(head.LastSeq, report.EventsChecked);
    }

    [Fact]
    public async Task A_kill_during_erasure_after_the_key_is_gone_leaves_an_erasure_the_next_request_completes()
    {
        using var dir = new TempDirectory();
        using (var process = Process.Start(HostStart(["erase", dir.Path]))!)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            string? line;
            while ((line = await process.StandardOutput.ReadLineAsync(timeout.Token)) is not null and not "KEY-DESTROYED")
            {
            }

            if (line is null)
            {
                Assert.Fail($"the host exited before destroying the key: {await stderr}");
            }

            // kill -9 while the erasure hangs between destroying the key and appending its event.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(timeout.Token);
        }

        // Either the key or the certificate: the key is gone, and the erasure it recorded completes with one event.
        await using var ledger = await AuditLedger.OpenAsync(new LedgerOptions { DataDirectory = dir.Path });
        Assert.Equal(3, ledger.Head.Size);
        var record = (await ledger.Store.GetAsync(1, CancellationToken.None))!;
        Assert.Contains("[erased]", Privacy.SubjectErasureTests.Shown(ledger, record, maskPii: false), StringComparison.Ordinal);
        var certificate = await ledger.Erasure.EraseAsync("crash", "s1", "someone", CancellationToken.None);
        var body = System.Text.Json.Nodes.JsonNode.Parse(certificate!.Certificate)!;
        Assert.Equal("[[1,3]]", body["affected_seqs"]!.ToJsonString());
        Assert.Equal(4, body["erasure_event"]!["seq"]!.GetValue<long>());
        Assert.Equal("crash-host", (await ledger.Store.GetAsync(4, CancellationToken.None))!.Event.ActorId);
        Assert.True((await ledger.VerifyAsync()).IsValid);
    }

    private static ProcessStartInfo HostStart(string[] arguments)
    {
        var host = AppContext.BaseDirectory.Replace("AuditStream.Ledger.Tests", "AuditStream.Ledger.CrashHost", StringComparison.Ordinal);
        var dll = Path.Combine(host, "AuditStream.Ledger.CrashHost.dll");
        Assert.True(File.Exists(dll), $"crash host not built at {dll}");
        return new ProcessStartInfo("dotnet", [dll, .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
    }

    private static async Task RunAndKillAsync(string dataDir, Dictionary<long, (Guid, string)> acked, int stopAfterAcks)
    {
        using var process = Process.Start(HostStart([dataDir, "4"]))!;
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var killed = false;
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("ACK ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                acked[long.Parse(parts[1], CultureInfo.InvariantCulture)] = (Guid.Parse(parts[2]), parts[3]);
            }

            if (!killed && acked.Count >= stopAfterAcks)
            {
                // Mid-load: producers have commits in flight. What was printed before the kill was acknowledged.
                process.Kill(entireProcessTree: true);
                killed = true;
            }
        }

        await process.WaitForExitAsync(timeout.Token);
        Assert.True(killed, $"the host exited by itself: {await stderr}");
    }
}
