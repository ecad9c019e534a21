using System.Net;
using System.Text.Json.Nodes;
using AuditStream.Security;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Reads;

/// <summary>One ledger of acme events, half of them with <c>pii</c> (the last one too), exported by every role.</summary>
public sealed class ExportRoleFixture : IAsyncLifetime
{
    /// <summary>Events posted: even indexes are <c>data.accessed</c> without pii, odd ones <c>consent.granted</c> with pii.</summary>
    public const int Total = 2_400;

    public TestServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await TestServer.StartAsync();
        using var producer = Server.Producer();

        // More than one export page (EventExport.PageSize), so paging and flushing are crossed too.
        for (var b = 0; b < Total / 600; b++)
        {
            await Json.PostEventsAsync(producer, Enumerable.Range(b * 600, 600).Select(Event).ToArray());
        }
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();

    public static string Email(int i) => $"subject{i}@example.com";

    private static string Event(int i) => i % 2 == 0
        ? Json.Event(i)
        : Json.Event(i, type: "consent.granted", category: "compliance", extra: $"\"subject_id\":\"subject-{i}\",\"pii\":{{\"email\":\"{Email(i)}\",\"name\":\"Name, \\\"{i}\\\"\"}}");
}

public sealed class ExportRoleTests(ExportRoleFixture fixture) : IClassFixture<ExportRoleFixture>
{
    public static TheoryData<string, string, bool> Cases()
    {
        var cases = new TheoryData<string, string, bool>();
        foreach (var role in new[] { "admin", "security", "compliance", "operator", "auditor" })
        {
            foreach (var format in new[] { "ndjson", "csv" })
            {
                cases.Add(role, format, true);
                cases.Add(role, format, false);
            }
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Every_reading_role_exports_every_event_to_the_last_line_with_pii_masked_as_its_role_requires(string role, string format, bool withPii)
    {
        using var reader = fixture.Server.Reader(role, "acme");
        var filter = withPii ? "" : "&event_types=data.accessed";
        using var response = await reader.GetAsync($"api/v1/events/export?format={format}{filter}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var expected = withPii ? ExportRoleFixture.Total : ExportRoleFixture.Total / 2;
        var lastIndex = withPii ? ExportRoleFixture.Total - 1 : ExportRoleFixture.Total - 2;
        var readsPii = RolePermissions.CanReadPii(Enum.Parse<Role>(role, ignoreCase: true));
        if (format == "ndjson")
        {
            Assert.EndsWith("\n", body, StringComparison.Ordinal);
            var lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(expected, lines.Length);
            var last = JsonNode.Parse(lines[^1])!;
            Assert.Equal(lastIndex + 1, last["seq"]!.GetValue<long>());
            if (withPii)
            {
                var pii = last["pii"]!;
                if (readsPii)
                {
                    Assert.Equal(ExportRoleFixture.Email(lastIndex), pii["email"]!.GetValue<string>());
                }
                else
                {
                    Assert.Equal("[masked]", pii.GetValue<string>());
                }
            }
            else
            {
                Assert.Null(last["pii"]);
            }
        }
        else
        {
            Assert.EndsWith("\r\n", body, StringComparison.Ordinal);
            var lines = body.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(expected + 1, lines.Length);
            Assert.StartsWith($"{lastIndex + 1},", lines[^1], StringComparison.Ordinal);
            Assert.Equal(withPii && readsPii, lines[^1].Contains(ExportRoleFixture.Email(lastIndex), StringComparison.Ordinal));
            Assert.Equal(withPii && !readsPii, lines[^1].Contains(",[masked],", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("ndjson")]
    [InlineData("csv")]
    public async Task The_user_role_is_refused_the_export(string format)
    {
        using var reader = fixture.Server.Reader("user", "acme");
        using var response = await reader.GetAsync($"api/v1/events/export?format={format}");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}
