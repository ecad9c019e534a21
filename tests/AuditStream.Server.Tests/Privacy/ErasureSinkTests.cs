using System.Net;
using System.Text;
using AuditStream.Server.Tests.Support;
using AuditStream.Sinks.Tests.Support;

namespace AuditStream.Server.Tests.Privacy;

public sealed class ErasureSinkTests : IAsyncLifetime
{
    private FakeReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await FakeReceiver.StartAsync();

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    [Fact]
    public async Task Elasticsearch_gets_masked_pii_never_the_plaintext_and_the_erasure_event_as_its_tombstone()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["ELASTICSEARCH_ENABLED"] = "true",
            ["ELASTICSEARCH_NODES"] = _receiver.BaseAddress.ToString().TrimEnd('/'),
        });
        await Json.PostEventsAsync(server.Producer(), PiiEncryptionTests.WithPii(1, "s1", "ann@example.com"));
        using var officer = server.Client(server.Token("compliance", "acme", mfa: true));

        using var response = await officer.PostAsync("api/v1/subjects/s1/erasure", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await _receiver.WaitUntilAsync(requests => requests.Any(r => r.Path == "/_bulk" && Encoding.UTF8.GetString(r.Body).Contains("privacy.erasure.completed", StringComparison.Ordinal)));
        var bodies = _receiver.Requests.Where(r => r.Path == "/_bulk").Select(r => Encoding.UTF8.GetString(r.Body)).ToList();
        Assert.All(bodies, b => Assert.DoesNotContain("ann@example.com", b, StringComparison.Ordinal));
        Assert.Contains(bodies, b => b.Contains("\"subject_id\":\"s1\"", StringComparison.Ordinal) && b.Contains("\"pii_envelope\"", StringComparison.Ordinal));
    }
}
