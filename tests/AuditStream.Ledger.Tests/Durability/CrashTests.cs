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

    private static async Task RunAndKillAsync(string dataDir, Dictionary<long, (Guid, string)> acked, int stopAfterAcks)
    {
        var host = AppContext.BaseDirectory.Replace("AuditStream.Ledger.Tests", "AuditStream.Ledger.CrashHost", StringComparison.Ordinal);
        var dll = Path.Combine(host, "AuditStream.Ledger.CrashHost.dll");
        Assert.True(File.Exists(dll), $"crash host not built at {dll}");
        var start = new ProcessStartInfo("dotnet", [dll, dataDir, "4"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
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
