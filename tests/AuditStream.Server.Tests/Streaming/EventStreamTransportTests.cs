using System.Text;
using AuditStream.Streaming.Protocol;
using AuditStream.Streaming.Transports;

namespace AuditStream.Server.Tests.Streaming;

public sealed class EventStreamTransportTests
{
    [Fact]
    public async Task A_published_frame_is_one_event_with_the_seq_as_id_and_a_control_frame_has_no_id()
    {
        using var body = new MemoryStream();
        var transport = new EventStreamTransport(body, TimeSpan.Zero, TimeProvider.System, CancellationToken.None);

        await transport.SendAsync(new StreamFrame("audit.event.published", 9_000_000_001, """{"type":"audit.event.published","seq":9000000001}"""u8.ToArray()), CancellationToken.None);
        await transport.SendAsync(ServerMessages.Gap(3, 7, StreamGapReasons.RateLimited), CancellationToken.None);
        await transport.SendAsync(ServerMessages.KeepAlive, CancellationToken.None);

        // Nothing reaches the body until the batch is flushed, and then in one write.
        Assert.Equal(0, body.Length);
        await transport.FlushAsync(CancellationToken.None);

        Assert.Equal(
            "id: 9000000001\nevent: audit.event.published\ndata: {\"type\":\"audit.event.published\",\"seq\":9000000001}\n\n"
            + "event: audit.stream.gap\ndata: {\"type\":\"audit.stream.gap\",\"from_seq\":3,\"to_seq\":7,\"reason\":\"rate_limited\"}\n\n"
            + ": keep-alive\n\n",
            Encoding.UTF8.GetString(body.ToArray()));
    }
}
