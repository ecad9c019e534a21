using System.Text;
using AuditStream.Ledger.Verification;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Reads;

public sealed class ExportFormulaTests
{
    // A producer-controlled value in every position a spreadsheet would run as a formula (OWASP "CSV Injection").
    private static readonly string s_formulas =
        """
        {"type":"data.accessed","severity":"info","category":"data","actor_id":"=HYPERLINK(\"http://evil.example\",\"open\")","actor_type":"+1+cmd","target_id":"record-1","target_type":"-2+3","action":"@SUM(A1)","metadata":{"note":"=1+1"}}
        """;

    [Fact]
    public async Task Csv_export_neutralizes_values_a_spreadsheet_would_run_as_formulas()
    {
        await using var server = await TestServer.StartAsync();
        using var producer = server.Producer();
        await Json.PostEventsAsync(producer, s_formulas);
        using var reader = server.Reader("admin", "*");

        var row = (await reader.GetStringAsync("api/v1/events/export?format=csv")).Split("\r\n")[1];

        Assert.Contains(",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"open\"\")\",", row, StringComparison.Ordinal);
        Assert.Contains(",\"'+1+cmd\",", row, StringComparison.Ordinal);
        Assert.Contains(",\"'-2+3\",", row, StringComparison.Ordinal);
        Assert.Contains(",\"'@SUM(A1)\",", row, StringComparison.Ordinal);

        // A value that does not start a formula is left as it is; JSON columns start with '{'.
        Assert.Contains(",record-1,", row, StringComparison.Ordinal);
        Assert.Contains(",\"{\"\"note\"\":\"\"=1+1\"\"}\",", row, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ndjson_export_stays_the_stored_canonical_bytes_and_verifies_when_values_look_like_formulas()
    {
        await using var server = await TestServer.StartAsync();
        using var producer = server.Producer();
        await Json.PostEventsAsync(producer, s_formulas, Json.Event(2), s_formulas);
        var checkpoint = await (await server.Client().GetAsync("api/v1/ledger/checkpoint")).Content.ReadAsStringAsync();
        var key = (await (await server.Client().GetAsync("api/v1/ledger/public-key")).Content.ReadAsStringAsync()).Trim();
        using var reader = server.Reader("admin", "*");

        var export = await reader.GetStringAsync("api/v1/events/export?format=ndjson");

        var expected = new StringBuilder();
        for (var seq = 1; seq <= 3; seq++)
        {
            var record = (await server.Ledger.Store.GetAsync(seq, CancellationToken.None))!;
            expected.Append(Encoding.UTF8.GetString(record.Body.AsSpan(0, record.Body.Length - 1)))
                .Append(",\"hash\":\"").Append(Convert.ToHexStringLower(record.Hash)).Append("\"}\n");
        }

        Assert.Equal(expected.ToString(), export);
        using var text = new StringReader(export);
        var report = await ExportVerifier.VerifyAsync(text, new VerificationOptions { TrustedCheckpoint = checkpoint, VerifierKey = key }, CancellationToken.None);
        Assert.True(report.IsValid, report.ToString());
        Assert.Equal(3, report.EventsChecked);
    }
}
