using System.Net;
using System.Text.Json.Nodes;
using AuditStream.Ledger.Verification;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Reads;

// Measures the process's live heap, so it runs alone: other tests' servers would count too.
[Collection(AuditStream.Server.Tests.Operations.ProcessMetrics.Name)]
public sealed class ExportTests
{
    [Fact]
    public async Task Exporting_100k_events_streams_with_bounded_memory_and_the_ndjson_verifies()
    {
        await using var server = await TestServer.StartAsync();
        using var producer = server.Producer();
        const int Total = 100_000;
        var padding = new string('p', 300);
        for (var b = 0; b < Total / 1_000; b++)
        {
            var batch = string.Join('\n', Enumerable.Range(b * 1_000, 1_000).Select(i => Json.Event(i, extra: $"\"metadata\":{{\"pad\":\"{padding}\"}}")));
            using var posted = await producer.PostAsync("api/v1/events", Json.Content(batch, "application/x-ndjson"));
            Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
        }

        var checkpoint = await (await server.Client().GetAsync("api/v1/ledger/checkpoint")).Content.ReadAsStringAsync();
        var key = (await (await server.Client().GetAsync("api/v1/ledger/public-key")).Content.ReadAsStringAsync()).Trim();

        using var reader = server.Reader("admin", "*");
        using var response = await reader.GetAsync("api/v1/events/export?format=ndjson", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Content.Headers.ContentLength);

        var file = Path.Combine(server.DataDirectory, "export.ndjson");
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        long peak = 0;
        long bytes = 0;
        await using (var body = await response.Content.ReadAsStreamAsync())
        await using (var output = File.Create(file))
        {
            var buffer = new byte[64 * 1024];
            int read;
            var nextSample = 5_000_000L;
            while ((read = await body.ReadAsync(buffer)) > 0)
            {
                await output.WriteAsync(buffer.AsMemory(0, read));
                bytes += read;
                if (bytes >= nextSample)
                {
                    // Live heap while the export is in flight: server page + client buffers, not the export's size.
                    peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true) - baseline);
                    nextSample += 10_000_000;
                }
            }
        }

        Assert.True(bytes > 40_000_000, $"export was only {bytes} bytes");
        Assert.True(peak < 24 * 1024 * 1024, $"live heap grew by {peak / 1024 / 1024} MiB while exporting {bytes / 1024 / 1024} MiB");
        Assert.Equal(Total, File.ReadLines(file).Count());

        using var text = File.OpenText(file);
        var report = await ExportVerifier.VerifyAsync(text, new VerificationOptions { TrustedCheckpoint = checkpoint, VerifierKey = key }, CancellationToken.None);
        Assert.True(report.IsValid, report.ToString());
        Assert.Equal(Total, report.EventsChecked);
    }

    [Fact]
    public async Task Ndjson_export_for_a_role_that_may_not_read_pii_is_complete_with_pii_masked()
    {
        await using var server = await TestServer.StartAsync();
        using var producer = server.Producer();
        await Json.PostEventsAsync(producer, Json.Event(1, extra: "\"subject_id\":\"s-1\",\"pii\":{\"email\":\"ada@example.com\"}"), Json.Event(2));
        using var reader = server.Reader("auditor", "acme");

        var ndjson = await reader.GetStringAsync("api/v1/events/export?format=ndjson");

        var lines = ndjson.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToArray();
        Assert.Equal([1L, 2L], lines.Select(l => l["seq"]!.GetValue<long>()));
        Assert.Equal("[masked]", lines[0]["pii"]!.GetValue<string>());
        Assert.DoesNotContain("ada@example.com", ndjson, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Csv_export_has_a_header_and_one_row_per_visible_event_with_quoting()
    {
        await using var server = await TestServer.StartAsync();
        using var producer = server.Producer();
        await Json.PostEventsAsync(producer, Json.Event(1, extra: "\"target_type\":\"say \\\"hi\\\", then leave\""), Json.Event(2));
        using var reader = server.Reader("auditor", "acme");
        var csv = await reader.GetStringAsync("api/v1/events/export?format=csv");
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("seq,timestamp,id,type,", lines[0], StringComparison.Ordinal);
        Assert.Contains("\"say \"\"hi\"\", then leave\"", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("2,", lines[2], StringComparison.Ordinal);

        using var bad = await reader.GetAsync("api/v1/events/export?format=xml");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }
}
