using System.Net.WebSockets;
using AuditStream.Server.Tests.Support;
using AuditStream.Streaming.Clients;
using Microsoft.Extensions.Time.Testing;

namespace AuditStream.Server.Tests.Streaming;

public sealed class InboundRateLimitTests
{
    [Fact]
    public void Messages_over_the_limit_are_warned_once_then_ignored_and_the_next_second_is_fresh()
    {
        var time = new FakeTimeProvider();
        var limit = new InboundRateLimit(3, 5, time);
        Assert.Equal(
            [InboundVerdict.Accept, InboundVerdict.Accept, InboundVerdict.Accept, InboundVerdict.Warn, InboundVerdict.Ignore],
            Enumerable.Range(0, 5).Select(_ => limit.Admit()));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(InboundVerdict.Accept, limit.Admit());
    }

    [Fact]
    public void Consecutive_seconds_over_the_limit_close_the_client_but_a_quiet_second_forgives()
    {
        var time = new FakeTimeProvider();
        var limit = new InboundRateLimit(1, 3, time);
        InboundVerdict Burst()
        {
            limit.Admit();
            var verdict = limit.Admit();
            time.Advance(TimeSpan.FromSeconds(1));
            return verdict;
        }

        Assert.Equal(InboundVerdict.Warn, Burst());
        Assert.Equal(InboundVerdict.Warn, Burst());

        // A second with only allowed traffic resets the streak.
        Assert.Equal(InboundVerdict.Accept, limit.Admit());
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(InboundVerdict.Warn, Burst());
        Assert.Equal(InboundVerdict.Warn, Burst());
        Assert.Equal(InboundVerdict.Close, Burst());
    }

    [Fact]
    public void A_zero_limit_accepts_everything()
    {
        var limit = new InboundRateLimit(0, 1, new FakeTimeProvider());
        Assert.All(Enumerable.Range(0, 100), _ => Assert.Equal(InboundVerdict.Accept, limit.Admit()));
    }

    [Fact]
    public async Task A_client_that_floods_gets_rate_limited_errors_and_is_closed_with_1008_if_it_keeps_on()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Hub:MaxInboundMessagesPerSecond"] = "5",
            ["AuditStream:Hub:MaxInboundViolations"] = "2",
        });
        var (client, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("auditor", "acme"));
        await using (client)
        {
            var receiving = Task.Run(async () =>
            {
                var (pongs, limited) = (0, 0);
                while (true)
                {
                    var (message, close) = await client.ReceiveOrCloseAsync();
                    if (message is null)
                    {
                        return (pongs, limited, close);
                    }

                    switch (message["type"]!.GetValue<string>())
                    {
                        case "audit.connection.pong":
                            pongs++;
                            break;
                        case "audit.error" when message["code"]!.GetValue<string>() == "rate_limited":
                            limited++;
                            break;
                    }
                }
            });

            // Keep sending well above the limit until the server closes (bounded: at most 30 s of pings).
            for (var i = 0; i < 3_000 && !receiving.IsCompleted && client.Socket.State == WebSocketState.Open; i++)
            {
                try
                {
                    await client.SendAsync("""{"type":"ping"}""");
                }
                catch (WebSocketException)
                {
                    break;
                }

                await Task.Delay(10);
            }

            var (pongCount, limitedCount, closeStatus) = await receiving.WaitAsync(StreamClient.Timeout);
            Assert.Equal((WebSocketCloseStatus)1008, closeStatus);
            Assert.Equal("policy_violation", client.Socket.CloseStatusDescription);
            Assert.True(limitedCount >= 1, "no rate_limited error before the close");
            Assert.True(pongCount >= 5, $"only {pongCount} pongs: the allowed messages were not answered");
        }
    }
}
