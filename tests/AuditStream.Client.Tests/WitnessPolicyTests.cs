using AuditStream.Checkpoints;
using AuditStream.Client.Tests.Support;
using AuditStream.Client.Verification;

namespace AuditStream.Client.Tests;

public sealed class WitnessPolicyTests : IDisposable
{
    private readonly NoteSigner _log = NoteSigner.Generate("auditstream.test/log");
    private readonly NoteSigner[] _witnesses = [NoteSigner.Generate("w1.test/w"), NoteSigner.Generate("w2.test/w"), NoteSigner.Generate("w3.test/w")];

    public void Dispose()
    {
        _log.Dispose();
        foreach (var witness in _witnesses)
        {
            witness.Dispose();
        }
    }

    [Fact]
    public void Two_of_three_accepts_two_distinct_valid_cosignatures_and_nothing_less()
    {
        var policy = new WitnessPolicy(_witnesses.Select(Cosignature.VerifierKey), quorum: 2);
        var text = new Checkpoint("auditstream.test/log", 7, new byte[32]).ToNoteText();
        var signed = _log.Sign(text);
        string With(params string[] lines) => signed + string.Concat(lines.Select(l => l + "\n"));
        string Cosign(int witness, string over) => Cosignature.Sign(_witnesses[witness], over, 1_700_000_000).ToString();

        Assert.Null(policy.Check(With(Cosign(0, text), Cosign(2, text))));
        Assert.Contains("1 of the required 2", policy.Check(With(Cosign(1, text))), StringComparison.Ordinal);
        Assert.Contains("1 of the required 2", policy.Check(With(Cosign(1, text), Cosign(1, text))), StringComparison.Ordinal);

        // A cosignature of another checkpoint, or from a witness not in the policy, does not count.
        var otherText = new Checkpoint("auditstream.test/log", 8, new byte[32]).ToNoteText();
        using var stranger = NoteSigner.Generate("w1.test/w");
        Assert.NotNull(policy.Check(With(Cosign(0, text), Cosign(1, otherText))));
        Assert.NotNull(policy.Check(With(Cosign(0, text), Cosignature.Sign(stranger, text, 1_700_000_000).ToString())));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WitnessPolicy(_witnesses.Select(Cosignature.VerifierKey), quorum: 4));
    }

    [Fact]
    public async Task A_reader_with_a_witness_policy_refuses_a_checkpoint_only_the_server_signed()
    {
        await using var server = await RestartableServer.StartAsync();
        await using var producer = server.Client(server.ProducerToken());
        var receipt = await producer.PublishAsync(Sample.Event(0));
        var pinned = (await server.Server.Client().GetStringAsync("api/v1/ledger/public-key")).Trim();
        var policy = new WitnessPolicy([Cosignature.VerifierKey(_witnesses[0])], quorum: 1);
        await using var reader = server.Client(server.ReaderToken(), o => (o.TrustedPublicKey, o.Witnesses) = (pinned, policy));

        var result = await reader.VerifyInclusionAsync(receipt);
        Assert.False(result.IsValid);
        Assert.StartsWith("checkpoint: witness policy: 0 of the required 1", result.Failure, StringComparison.Ordinal);
    }
}
