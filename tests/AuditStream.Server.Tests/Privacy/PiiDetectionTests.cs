using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AuditStream.Server.Tests.Operations;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Privacy;

public sealed class PiiDetectionTests
{
    private const string Phone = "+14155552671";

    private static Task<TestServer> StartAsync(params (string Key, string Value)[] settings) =>
        TestServer.StartAsync(settings.ToDictionary(s => "AuditStream:PiiDetection:" + s.Key, s => (string?)s.Value));

    private static string WithMetadata(int i, string metadata, string? extra = null) =>
        Json.Event(i, extra: $"\"metadata\":{metadata}" + (extra is null ? "" : "," + extra));

    [Fact]
    public async Task Reject_answers_400_naming_the_field_and_the_detector_never_the_value_and_writes_nothing()
    {
        await using var server = await StartAsync(("Default:Action", "reject"));
        using var producer = server.Producer();

        using var response = await producer.PostAsync("api/v1/events", Json.Content(WithMetadata(1, """{"ticket":{"note":"reach me at ann@example.com"}}""")));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("ann@example.com", body, StringComparison.Ordinal);
        var error = JsonNode.Parse(body)!["errors"]![0]!;
        Assert.Equal("metadata.ticket.note", error["field"]!.GetValue<string>());
        Assert.Contains("pii_detected", error["rule"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("email", error["rule"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, server.Ledger.Head.Size);
        var scrape = await PrometheusScrape.ReadWhenAsync(server, 1, "audit_ingest_pii_detections_total", ("detector", "email"), ("action", "reject"));
        Assert.DoesNotContain("acme", string.Join('\n', scrape.Text.Split('\n').Where(l => l.StartsWith("audit_ingest_pii", StringComparison.Ordinal))), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reject_of_one_ndjson_line_refuses_the_batch_naming_its_index_beside_the_other_lines_errors()
    {
        await using var server = await StartAsync(("Default:Detectors:card", "reject"));
        using var producer = server.Producer();
        var lines = string.Join('\n',
            WithMetadata(0, """{"ok":"eu-west-1"}"""),
            WithMetadata(1, """{"payment":["card 4111 1111 1111 1111"]}"""),
            Json.Event(2, severity: "loud"));

        using var response = await producer.PostAsync("api/v1/events", Json.Content(lines, "application/x-ndjson"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await Json.ReadAsync(response))["errors"]!.AsArray();
        Assert.Equal([(1, "metadata.payment[0]"), (2, "severity")], errors.Select(e => (e!["index"]!.GetValue<int>(), e["field"]!.GetValue<string>())));
        Assert.Contains("card", errors[0]!["rule"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, server.Ledger.Head.Size);
    }

    [Fact]
    public async Task A_malformed_line_and_a_rejected_line_are_both_named()
    {
        await using var server = await StartAsync(("Default:Action", "reject"));
        using var producer = server.Producer();
        var lines = "{\"type\":\n" + WithMetadata(1, """{"from":"10.1.2.3"}""");

        using var response = await producer.PostAsync("api/v1/events", Json.Content(lines, "application/x-ndjson"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await Json.ReadAsync(response))["errors"]!.AsArray();
        Assert.Equal([0, 1], errors.Select(e => e!["index"]!.GetValue<int>()));
        Assert.Equal("metadata.from", errors[1]!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task Move_stores_the_value_encrypted_in_pii_so_compliance_reads_it_an_auditor_sees_it_masked_and_the_files_never_hold_it()
    {
        await using var server = await StartAsync(("Default:Action", "move"));
        using var producer = server.Producer();
        var marker = "call " + Phone + " ref " + Guid.NewGuid().ToString("N");
        await Json.PostEventsAsync(producer, WithMetadata(1, $$"""{"contact":"{{marker}}","region":"eu-west-1"}""", "\"subject_id\":\"s1\",\"pii\":{\"name\":\"Ann\"}"));
        using var compliance = server.Reader("compliance", "acme");
        using var auditor = server.Reader("auditor", "acme");

        var clear = JsonNode.Parse(await compliance.GetStringAsync("api/v1/events/1"))!;
        var masked = await auditor.GetStringAsync("api/v1/events/1");

        Assert.Equal("[pii:phone]", clear["metadata"]!["contact"]!.GetValue<string>());
        Assert.Equal("eu-west-1", clear["metadata"]!["region"]!.GetValue<string>());
        Assert.Equal(marker, clear["pii"]!["metadata.contact"]!.GetValue<string>());
        Assert.Equal("Ann", clear["pii"]!["name"]!.GetValue<string>());
        Assert.Equal("[masked]", JsonNode.Parse(masked)!["pii"]!.GetValue<string>());
        Assert.DoesNotContain(Phone, masked, StringComparison.Ordinal);
        var report = await PiiEncryptionTests.VerifyExportAsync(server, auditor);
        Assert.True(report.IsValid, report.ToString());
        var needle = Encoding.UTF8.GetBytes(marker[^32..]);
        foreach (var file in Directory.GetFiles(server.DataDirectory, "*", SearchOption.AllDirectories))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            Assert.True(bytes.AsSpan().IndexOf(needle) < 0, $"{Path.GetFileName(file)} holds the moved value");
        }

        await PrometheusScrape.ReadWhenAsync(server, 1, "audit_ingest_pii_detections_total", ("detector", "phone"), ("action", "move"));
    }

    [Fact]
    public async Task Mask_replaces_the_match_for_the_tenant_configured_while_another_tenant_keeps_the_default_off()
    {
        await using var server = await StartAsync(("Tenants:acme:Action", "mask"), ("Tenants:acme:Detectors:ip", "off"));
        using var acme = server.Producer("acme");
        using var beta = server.Producer("beta");
        await Json.PostEventsAsync(acme, WithMetadata(1, """{"note":"IBAN DE89 3704 0044 0532 0130 00 from 10.1.2.3"}"""));
        await Json.PostEventsAsync(beta, WithMetadata(2, """{"note":"IBAN DE89 3704 0044 0532 0130 00 from 10.1.2.3"}"""));
        using var admin = server.Reader("admin", "*");

        var masked = JsonNode.Parse(await admin.GetStringAsync("api/v1/events/1"))!;
        var kept = JsonNode.Parse(await admin.GetStringAsync("api/v1/events/2"))!;

        Assert.Equal("IBAN [pii:iban] from 10.1.2.3", masked["metadata"]!["note"]!.GetValue<string>());
        Assert.Equal("IBAN DE89 3704 0044 0532 0130 00 from 10.1.2.3", kept["metadata"]!["note"]!.GetValue<string>());
        var report = await PiiEncryptionTests.VerifyExportAsync(server, admin);
        Assert.True(report.IsValid, report.ToString());
    }

    [Fact]
    public async Task Off_by_default_stores_metadata_as_sent()
    {
        await using var server = await TestServer.StartAsync();
        using var producer = server.Producer();
        await Json.PostEventsAsync(producer, WithMetadata(1, """{"note":"ann@example.com 4111111111111111"}"""));
        using var admin = server.Reader("admin", "acme");

        var stored = JsonNode.Parse(await admin.GetStringAsync("api/v1/events/1"))!;

        Assert.Equal("ann@example.com 4111111111111111", stored["metadata"]!["note"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_retry_of_a_masked_event_is_a_duplicate()
    {
        await using var server = await StartAsync(("Default:Action", "mask"));
        using var producer = server.Producer();
        var e = WithMetadata(1, """{"note":"ann@example.com"}""", $"\"id\":\"{Guid.CreateVersion7()}\"");

        var first = await Json.PostEventsAsync(producer, e);
        var retry = await Json.PostEventsAsync(producer, e);

        Assert.True(retry["events"]![0]!["duplicate"]!.GetValue<bool>());
        Assert.Equal(first["events"]![0]!["seq"]!.GetValue<long>(), retry["events"]![0]!["seq"]!.GetValue<long>());
    }

    [Fact]
    public async Task An_unknown_detector_name_stops_the_server_at_start_naming_the_key()
    {
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => StartAsync(("Default:Detectors:passport", "reject")));

        Assert.Contains("Default:Detectors:passport", ex.ToString(), StringComparison.Ordinal);
    }
}
