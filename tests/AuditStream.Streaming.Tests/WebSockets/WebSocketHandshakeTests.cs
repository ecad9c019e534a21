using AuditStream.Streaming.Transports.WebSockets;

namespace AuditStream.Streaming.Tests.WebSockets;

public sealed class WebSocketHandshakeTests
{
    [Fact]
    public void The_accept_key_matches_the_RFC_6455_example()
    {
        // RFC 6455 §1.3.
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", WebSocketHandshake.AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="));
    }

    [Theory]
    [InlineData("dGhlIHNhbXBsZSBub25jZQ==", true)]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("dGhlIHNhbXBsZSBub25jZQ", false)]
    [InlineData("dGhlIHNhbXBsZSBub25jZXg=", false)]
    [InlineData("not base64 at all!!!!!!!", false)]
    public void A_key_must_be_the_base64_of_16_bytes(string? key, bool valid) =>
        Assert.Equal(valid, WebSocketHandshake.IsValidKey(key));
}
