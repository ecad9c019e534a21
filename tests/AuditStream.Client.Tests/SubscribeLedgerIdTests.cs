using AuditStream.Client.Streaming;
using AuditStream.Client.Tests.Support;

namespace AuditStream.Client.Tests;

/// <summary>The subscription resumes by (ledger id, seq): it never carries a position over to another ledger.</summary>
public sealed class SubscribeLedgerIdTests
{
    [Fact]
    public async Task A_reconnect_that_reaches_another_ledger_ends_the_subscription_naming_both_ids_instead_of_mixing_seqs()
    {
        await using var server = await RestartableServer.StartAsync();
        await using var producer = server.Client(server.ProducerToken());
        await using var reader = server.Client(server.ReaderToken());
        await producer.PublishAsync([.. Enumerable.Range(0, 3).Select(i => Sample.Event(i))]);
        var firstLedger = server.Server.Ledger.LedgerId;

        using var cts = Wait.Bounded();
        var seqs = new List<long>();
        string? established = null;
        string? secondLedger = null;
        var refused = await Assert.ThrowsAsync<AuditStreamException>(async () =>
        {
            await foreach (var message in reader.SubscribeAsync(sinceSeq: 0, cancellationToken: cts.Token))
            {
                switch (message)
                {
                    case ConnectionEstablishedMessage e:
                        established ??= e.LedgerId;
                        break;
                    case EventMessage e:
                        seqs.Add(e.Seq);
                        if (seqs.Count == 3)
                        {
                            // The same address now serves a new, empty ledger whose seqs 4.. are other events.
                            await server.StopAsync();
                            Directory.Delete(server.DataDirectory, recursive: true);
                            await server.StartAgainAsync();
                            secondLedger = server.Server.Ledger.LedgerId;
                            await producer.PublishAsync([.. Enumerable.Range(0, 5).Select(i => Sample.Event(i))]);
                        }

                        break;
                }
            }
        });

        Assert.Equal(firstLedger, established);
        Assert.Equal([1L, 2, 3], seqs);
        Assert.Contains(firstLedger, refused.Message, StringComparison.Ordinal);
        Assert.Contains(secondLedger!, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_saved_position_resumes_with_its_ledger_id_on_the_same_ledger_and_is_refused_on_another()
    {
        await using var server = await RestartableServer.StartAsync();
        await using var producer = server.Client(server.ProducerToken());
        await using var reader = server.Client(server.ReaderToken());
        await producer.PublishAsync([.. Enumerable.Range(0, 5).Select(i => Sample.Event(i))]);
        var ledgerId = server.Server.Ledger.LedgerId;

        using var cts = Wait.Bounded();
        var seqs = new List<long>();
        await foreach (var message in reader.SubscribeAsync(null, 2, ledgerId, cts.Token))
        {
            if (message is EventMessage e && seqs.Count < 3)
            {
                seqs.Add(e.Seq);
            }

            if (message is CaughtUpMessage)
            {
                break;
            }
        }

        Assert.Equal([3L, 4, 5], seqs);
        var refused = await Assert.ThrowsAsync<AuditStreamException>(async () =>
        {
            await foreach (var message in reader.SubscribeAsync(null, 2, "0123456789abcdef0123456789abcdef", cts.Token))
            {
                Assert.IsNotType<EventMessage>(message);
            }
        });
        Assert.Contains(ledgerId, refused.Message, StringComparison.Ordinal);
    }
}
