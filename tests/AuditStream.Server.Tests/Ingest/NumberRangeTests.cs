using System.Net;
using AuditStream.Server.Tests.Support;

namespace AuditStream.Server.Tests.Ingest;

/// <summary>Numbers without an IEEE-754 double value are bad input, named by path, never a 500 (issue 13, item 6).</summary>
public sealed class NumberRangeTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("1e400")]
    [InlineData("-1e400")]
    [InlineData("-1e999")]
    public async Task A_number_out_of_range_in_metadata_is_refused_400_naming_its_path(string number)
    {
        using var client = _server.Producer();
        var body = $"[{Json.Event(1)},{Json.Event(2, extra: $"\"metadata\":{{\"ok\":1,\"deep\":{{\"list\":[1,{number}]}}}}")}]";
        using var response = await client.PostAsync("api/v1/events", Json.Content(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
        var error = Assert.Single((await Json.ReadAsync(response))["errors"]!.AsArray())!;
        Assert.Equal(1, error["index"]!.GetValue<int>());
        Assert.Equal("metadata.deep.list[1]", error["field"]!.GetValue<string>());
        Assert.Contains("double range", error["rule"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, _server.Ledger.Head.Size);

        // The same events without the bad number go in: the refusal lost nothing that was acknowledged.
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("api/v1/events", Json.Content($"[{Json.Event(1)}]"))).StatusCode);
    }

    [Fact]
    public async Task A_number_out_of_range_in_pii_is_refused_400_naming_its_path()
    {
        using var client = _server.Producer();
        using var response = await client.PostAsync("api/v1/events", Json.Content(Json.Event(1, extra: "\"subject_id\":\"s-1\",\"pii\":{\"n\":1e400}")));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("pii.n", (await Json.ReadAsync(response))["errors"]![0]!["field"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("metadata.n:gt:1e400")]
    [InlineData("metadata.n:lt:NaN")]
    [InlineData("metadata.n:lt:-Infinity")]
    public async Task A_comparison_with_a_non_finite_number_is_refused_400(string match)
    {
        using var reader = _server.Reader();
        using var response = await reader.GetAsync("api/v1/events?match=" + Uri.EscapeDataString(match));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
        Assert.Contains("finite number", text, StringComparison.Ordinal);

        using var stream = await reader.GetAsync("api/v1/stream?match=" + Uri.EscapeDataString(match), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.BadRequest, stream.StatusCode);

        // A finite bound is fine.
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("api/v1/events?match=" + Uri.EscapeDataString("metadata.n:gt:1e300"))).StatusCode);
    }
}
