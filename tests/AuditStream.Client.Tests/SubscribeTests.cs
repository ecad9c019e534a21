using AuditStream.Client.Streaming;
using AuditStream.Client.Tests.Support;
using AuditStream.Filters;

namespace AuditStream.Client.Tests;

public sealed class SubscribeTests
{
    [Fact]
    public async Task Subscribe_resumes_across_a_server_restart_with_every_seq_exactly_once()
    {
        await using var server = await RestartableServer.StartAsync();
        await using var producer = server.Client(server.ProducerToken());
        await using var reader = server.Client(server.ReaderToken());
        await producer.PublishAsync([.. Enumerable.Range(0, 200).Select(i => Sample.Event(i))]);

        using var cts = Wait.Bounded();
        var seqs = new List<long>();
        var reconnects = 0;
        Task? restart = null;
        await foreach (var message in reader.SubscribeAsync(sinceSeq: 0, cancellationToken: cts.Token))
        {
            switch (message)
            {
                case EventMessage e:
                    seqs.Add(e.Seq);
                    break;
                case ReconnectingMessage:
                    reconnects++;
                    break;
            }

            // Restart mid-replay (while the subscriber keeps reading, so it sees the close), then publish.
            if (restart is null && seqs.Count == 50)
            {
                restart = Task.Run(async () =>
                {
                    await server.RestartAsync();
                    await producer.PublishAsync([.. Enumerable.Range(200, 100).Select(i => Sample.Event(i))]);
                });
            }

            if (seqs.Count == 300)
            {
                break;
            }
        }

        await restart!;
        Assert.Equal(Enumerable.Range(1, 300).Select(i => (long)i), seqs);
        Assert.True(reconnects >= 1);
    }

    [Fact]
    public async Task A_live_subscription_resumes_from_where_it_was_and_keeps_its_filters()
    {
        await using var server = await RestartableServer.StartAsync();
        await using var producer = server.Client(server.ProducerToken());
        await using var reader = server.Client(server.ReaderToken());
        await producer.PublishAsync(Sample.Event(0, "consent.granted"));

        using var cts = Wait.Bounded();
        var received = new List<(long Seq, string Type)>();
        var phase = 0;
        Task? restart = null;
        await foreach (var message in reader.SubscribeAsync(new StreamFilter { EventTypes = ["consent.*"] }, cancellationToken: cts.Token))
        {
            if (message is ConnectionEstablishedMessage && phase == 0)
            {
                phase = 1;
                await producer.PublishAsync([Sample.Event(1, "consent.granted"), Sample.Event(2, "data.accessed"), Sample.Event(3, "consent.revoked")]);
            }
            else if (message is EventMessage e)
            {
                received.Add((e.Seq, e.Event.Type!));
                if (received.Count == 2 && phase == 1)
                {
                    phase = 2;

                    // Written after the subscriber was disconnected: it must still receive seq 6.
                    restart = Task.Run(async () =>
                    {
                        await server.RestartAsync();
                        await producer.PublishAsync([Sample.Event(4, "data.accessed"), Sample.Event(5, "consent.granted")]);
                    });
                }

                if (received.Count == 3)
                {
                    break;
                }
            }
        }

        await restart!;
        Assert.Equal([(2L, "consent.granted"), (4L, "consent.revoked"), (6L, "consent.granted")], received);
    }

    [Fact]
    public async Task After_a_rate_limit_gap_a_reconnect_resumes_after_the_gap_and_repeats_nothing()
    {
        await using var server = await RestartableServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["AuditStream:Hub:RateLimitPerSecond"] = "3",
            ["AuditStream:Hub:RateLimitPerMinute"] = "0",
        });
        await using var producer = server.Client(server.ProducerToken());
        await using var reader = server.Client(server.ReaderToken());

        using var cts = Wait.Bounded();
        var seen = new List<string>();
        Task? restart = null;
        await foreach (var message in reader.SubscribeAsync(cancellationToken: cts.Token))
        {
            switch (message)
            {
                case ConnectionEstablishedMessage when restart is null:
                    await producer.PublishAsync([.. Enumerable.Range(0, 10).Select(i => Sample.Event(i))]);
                    break;
                case EventMessage e:
                    seen.Add($"event {e.Seq}");
                    break;
                case GapMessage gap:
                    seen.Add($"gap {gap.FromSeq}-{gap.ToSeq}");
                    restart = Task.Run(async () =>
                    {
                        await server.RestartAsync();
                        await producer.PublishAsync(Sample.Event(10));
                    });
                    break;
            }

            if (seen.Contains("event 11"))
            {
                break;
            }
        }

        await restart!;
        Assert.Equal(["event 1", "event 2", "event 3", "gap 4-10", "event 11"], seen);
    }

    [Fact]
    public async Task A_refused_subscription_throws_instead_of_retrying()
    {
        await using var server = await RestartableServer.StartAsync();
        await using var client = server.Client("not-a-token");
        using var cts = Wait.Bounded();
        var ex = await Assert.ThrowsAsync<AuditStreamException>(async () =>
        {
            await foreach (var _ in client.SubscribeAsync(cancellationToken: cts.Token))
            {
            }
        });
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, ex.StatusCode);
    }
}
