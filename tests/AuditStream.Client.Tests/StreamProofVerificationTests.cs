using System.Text.Json.Nodes;
using AuditStream.Checkpoints;
using AuditStream.Client.Streaming;
using AuditStream.Client.Tests.Support;
using AuditStream.Client.Verification;

namespace AuditStream.Client.Tests;

/// <summary>
/// The SDK's verifying subscription (<see cref="AuditStreamClientOptions.VerifyStreamProofs"/>) against the real server,
/// directly and through a party in the middle that alters a proof, a checkpoint, or shows a validly signed checkpoint
/// of another history (a split view).
/// </summary>
public sealed class StreamProofVerificationTests
{
    [Fact]
    public async Task A_verifying_subscription_verifies_every_replayed_and_live_event_and_each_new_checkpoints_consistency()
    {
        await using var server = await RestartableServer.StartAsync();
        await using var producer = server.Client(server.ProducerToken());
        await producer.PublishAsync([.. Enumerable.Range(0, 20).Select(i => Sample.Event(i))]);

        // A checkpoint of the 20 before attaching: the replay then carries inline proofs, and the 10 live events need a
        // later checkpoint (deferred proofs), whenever the server's own signing interval comes round.
        await server.Server.Ledger.Checkpoints.PublishNowAsync(CancellationToken.None);
        var pinned = await PinnedKeyAsync(server);
        await using var reader = server.Client(server.ReaderToken(), o =>
        {
            o.TrustedPublicKey = pinned;
            o.VerifyStreamProofs = true;
        });

        using var cts = Wait.Bounded();
        var verified = new Dictionary<long, EventVerifiedMessage>();
        var checkpoints = new List<long>();
        var published = false;
        await foreach (var message in reader.SubscribeAsync(sinceSeq: 0, cancellationToken: cts.Token))
        {
            switch (message)
            {
                case CheckpointMessage checkpoint:
                    checkpoints.Add(checkpoint.TreeSize);
                    break;
                case EventVerifiedMessage ok:
                    verified[ok.Seq] = ok;
                    break;
                case CaughtUpMessage when !published:
                    published = true;
                    await producer.PublishAsync([.. Enumerable.Range(20, 10).Select(i => Sample.Event(i))]);
                    break;
            }

            if (verified.Count == 30)
            {
                break;
            }
        }

        Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), verified.Keys.Order());
        Assert.All(verified.Values, v => Assert.True(v.ContentVerified));
        Assert.True(checkpoints.Count >= 2, "a later checkpoint (checked for consistency) covered the live events");
        Assert.Contains(verified.Values, v => v.Inline);
        Assert.Contains(verified.Values, v => !v.Inline);
    }

    [Fact]
    public async Task A_proof_altered_in_transit_ends_the_subscription_naming_the_seq()
    {
        await using var server = await RestartableServer.StartAsync();
        await SeedAsync(server);
        await using var proxy = await AlteringProxy.StartAsync(server.BaseAddress);
        proxy.AlterFrame = frame =>
        {
            var message = JsonNode.Parse(frame)!;
            if (message["proof"] is { } proof && message["seq"]!.GetValue<long>() == 4)
            {
                proof["hashes"]![0] = Convert.ToBase64String(new byte[32]);
                return message.ToJsonString();
            }

            return frame;
        };

        var failure = await VerifyThroughAsync(server, proxy);
        Assert.Equal(4, failure.Seq);
        Assert.Contains("does not lead to the checkpoint's root", failure.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_checkpoint_altered_in_transit_ends_the_subscription_naming_the_checkpoint()
    {
        await using var server = await RestartableServer.StartAsync();
        await SeedAsync(server);
        await using var proxy = await AlteringProxy.StartAsync(server.BaseAddress);
        proxy.AlterFrame = frame =>
        {
            var message = JsonNode.Parse(frame)!;
            if (message["type"]!.GetValue<string>() != "audit.ledger.checkpoint")
            {
                return frame;
            }

            var lines = message["checkpoint"]!.GetValue<string>().Split('\n');
            lines[2] = Convert.ToBase64String(new byte[32]);
            message["checkpoint"] = string.Join('\n', lines);
            return message.ToJsonString();
        };

        var failure = await VerifyThroughAsync(server, proxy);
        Assert.Null(failure.Seq);
        Assert.Equal(10, failure.TreeSize);
        Assert.StartsWith("checkpoint:", failure.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_validly_signed_checkpoint_of_another_history_fails_the_consistency_check()
    {
        await using var server = await RestartableServer.StartAsync();
        await SeedAsync(server);

        // The log's own key signs a second history of the next size: only the consistency proof can tell.
        var keyPath = new AuditStream.Ledger.LedgerOptions { DataDirectory = server.DataDirectory }.ResolvedSigningKeyPath;
        await using var proxy = await AlteringProxy.StartAsync(server.BaseAddress);
        proxy.AlterFrame = frame =>
        {
            var message = JsonNode.Parse(frame)!;
            if (message["type"]!.GetValue<string>() != "audit.ledger.checkpoint" || message["tree_size"]!.GetValue<long>() == 10)
            {
                return frame;
            }

            var size = message["tree_size"]!.GetValue<long>();
            var origin = message["checkpoint"]!.GetValue<string>().Split('\n')[0];
            using var signer = SigningKeyFile.LoadOrCreate(keyPath, origin);
            message["checkpoint"] = new CheckpointSigner(signer).Sign(new Checkpoint(origin, size, System.Security.Cryptography.SHA256.HashData("another history"u8)));
            return message.ToJsonString();
        };

        var failure = await VerifyThroughAsync(server, proxy, afterCaughtUp: async () =>
        {
            await using var producer = server.Client(server.ProducerToken());
            await producer.PublishAsync(Sample.Event(11));
        });
        Assert.Null(failure.Seq);
        Assert.Contains("not consistent with the verified checkpoint at tree size 10", failure.Failure, StringComparison.Ordinal);
    }

    /// <summary>Ten events and a checkpoint that covers them.</summary>
    private static async Task SeedAsync(RestartableServer server)
    {
        await using var producer = server.Client(server.ProducerToken());
        await producer.PublishAsync([.. Enumerable.Range(0, 10).Select(i => Sample.Event(i))]);
        await server.Server.Ledger.Checkpoints.PublishNowAsync(CancellationToken.None);
    }

    private static async Task<string> PinnedKeyAsync(RestartableServer server)
    {
        using var http = server.Server.Client();
        return (await http.GetStringAsync("api/v1/ledger/public-key")).Trim();
    }

    /// <summary>Subscribes through <paramref name="proxy"/> with verification until it fails, and returns the failure.</summary>
    private static async Task<StreamVerificationException> VerifyThroughAsync(RestartableServer server, AlteringProxy proxy, Func<Task>? afterCaughtUp = null)
    {
        var pinned = await PinnedKeyAsync(server);
        await using var reader = server.Client(server.ReaderToken(), o =>
        {
            o.BaseAddress = proxy.BaseAddress;
            o.TrustedPublicKey = pinned;
            o.VerifyStreamProofs = true;
        });
        using var cts = Wait.Bounded();
        return await Assert.ThrowsAsync<StreamVerificationException>(async () =>
        {
            await foreach (var message in reader.SubscribeAsync(sinceSeq: 0, cancellationToken: cts.Token))
            {
                if (message is CaughtUpMessage && afterCaughtUp is not null)
                {
                    await afterCaughtUp();
                }
            }
        });
    }
}
