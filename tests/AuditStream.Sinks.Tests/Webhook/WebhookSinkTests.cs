using System.Text.Json;
using AuditStream.Sinks.Runtime;
using AuditStream.Sinks.Tests.Conformance;
using AuditStream.Sinks.Tests.Support;
using AuditStream.Sinks.Webhook;

namespace AuditStream.Sinks.Tests.Webhook;

public sealed class WebhookSinkTests : SinkConformanceTests
{
    private const string NewSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private const string OldSecret = "an old plain secret";

    protected override (IAuditSink Sink, SinkOptions Options) Create(Uri receiver, Action<SinkOptions> configure)
    {
        var options = new WebhookOptions { Name = "hook", Url = new Uri(receiver, "hooks/audit"), Secrets = [NewSecret, OldSecret] };
        configure(options);
        return (new WebhookSink(options, new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, TimeProvider.System), options);
    }

    protected override IReadOnlyList<Guid> EventIds(ReceivedRequest request)
    {
        using var json = JsonDocument.Parse(request.Body);
        return [.. json.RootElement.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetGuid())];
    }

    protected override Reply AcceptedReply(ReceivedRequest request, IReadOnlyList<Guid> ids) => new(204, "");

    protected override (Reply Reply, IReadOnlyList<Guid> Accepted) RefusedReply(ReceivedRequest request, IReadOnlyList<Guid> ids) =>
        (new Reply(400, """{"error":"unprocessable event"}"""), []);

    [Fact]
    public async Task Each_request_is_signed_with_both_secrets_and_carries_a_stable_delivery_id()
    {
        var refused = 0;
        Receiver.Handler = r => Interlocked.Increment(ref refused) == 1 ? new Reply(503) : new Reply(204, "");
        await Fixture.AppendAsync(3);
        await using var runner = StartRunner();
        await WaitForPositionAsync(runner, 3);

        var requests = Receiver.Requests;
        Assert.Equal(2, requests.Count);
        foreach (var request in requests)
        {
            Assert.Equal("/hooks/audit", request.Path);
            Assert.StartsWith("application/json", request.Header("content-type"));
            var id = request.Header(WebhookSignature.IdHeader);
            var timestamp = request.Header(WebhookSignature.TimestampHeader);
            var signature = request.Header(WebhookSignature.SignatureHeader);
            Assert.Matches("^msg_[0-9a-f]{26}$", id);
            Assert.Equal(2, signature.Split(' ').Length);
            Assert.True(WebhookSignature.Verify([NewSecret], id, timestamp, signature, request.Body, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)));
            Assert.True(WebhookSignature.Verify([OldSecret], id, timestamp, signature, request.Body, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)));
            Assert.False(WebhookSignature.Verify(["whsec_" + Convert.ToBase64String(new byte[24])], id, timestamp, signature, request.Body, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)));

            // Outside the replay window the same signature is refused.
            Assert.False(WebhookSignature.Verify([NewSecret], id, timestamp, signature, request.Body, DateTimeOffset.UtcNow.AddMinutes(10), TimeSpan.FromMinutes(5)));

            using var json = JsonDocument.Parse(request.Body);
            Assert.Equal("audit.events", json.RootElement.GetProperty("type").GetString());
            Assert.Equal(id, json.RootElement.GetProperty("delivery_id").GetString());
        }

        // The retry of the same batch is the same delivery.
        Assert.Equal(requests[0].Header(WebhookSignature.IdHeader), requests[1].Header(WebhookSignature.IdHeader));
    }

    [Fact]
    public async Task Start_at_end_means_after_what_was_committed_when_the_sink_was_set_up()
    {
        await Fixture.AppendAsync(3);
        var options = new WebhookOptions { Name = "late", Url = Receiver.BaseAddress, StartAt = SinkStart.End, Linger = TimeSpan.Zero };
        await using var runner = Fixture.Runner(new WebhookSink(options, new HttpClient(), TimeProvider.System), options);
        var later = await Fixture.AppendAsync(2);
        runner.Start();
        await WaitForPositionAsync(runner, 5);

        Assert.Equal(later.Select(e => e.Id!.Value), Accepted);
    }
}
