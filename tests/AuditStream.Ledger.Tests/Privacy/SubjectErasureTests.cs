using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AuditStream.Checkpoints;
using AuditStream.Events;
using AuditStream.Ledger.Privacy;
using AuditStream.Ledger.Tests.Support;

namespace AuditStream.Ledger.Tests.Privacy;

public sealed class SubjectErasureTests
{
    internal static AuditEvent WithPii(string subject, string marker) => new()
    {
        Type = "consent.granted",
        Severity = "info",
        Category = "compliance",
        SubjectId = subject,
        Pii = JsonDocument.Parse($$"""{"email":"{{marker}}"}""").RootElement.Clone(),
    };

    internal static string Shown(AuditLedger ledger, LedgerRecord record, bool maskPii)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            EventJson.Write(writer, record, maskPii, ledger.SubjectKeys);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    [Fact]
    public async Task Erasure_destroys_the_key_every_view_shows_erased_and_the_signed_certificate_names_the_affected_seqs()
    {
        using var dir = new TempDirectory();
        await using var ledger = await AuditLedger.OpenAsync(new LedgerOptions { DataDirectory = dir.Path });
        await ledger.AppendAsync([WithPii("s1", "one@example.com"), WithPii("s1", "two@example.com"), WithPii("s2", "keep@example.com")], "acme");
        await ledger.AppendAsync([WithPii("s1", "three@example.com")], "acme");
        var before = await ledger.Store.GetAsync(1, CancellationToken.None);
        Assert.Contains("one@example.com", Shown(ledger, before!, maskPii: false), StringComparison.Ordinal);

        var certificate = await ledger.Erasure.EraseAsync("acme", "s1", "officer", CancellationToken.None);

        Assert.NotNull(certificate);
        Assert.False(certificate.Repeated);
        var opened = SignedNote.Open(certificate.SignedNote, NoteVerifier.Parse(ledger.VerifierKey));
        Assert.True(opened.Succeeded, opened.Failure?.ToString());
        Assert.Equal(certificate.Certificate + "\n", opened.Text);
        var body = JsonNode.Parse(certificate.Certificate)!;
        Assert.Equal("s1", body["subject_id"]!.GetValue<string>());
        Assert.Equal("acme", body["tenant_id"]!.GetValue<string>());
        Assert.Equal("[[1,2],[4,4]]", body["affected_seqs"]!.ToJsonString());
        Assert.Equal(5, body["erasure_event"]!["seq"]!.GetValue<long>());
        Assert.StartsWith(ledger.Checkpoints.Latest!.SignedNote.Split('\n')[0], body["checkpoint"]!.GetValue<string>(), StringComparison.Ordinal);

        foreach (var seq in new long[] { 1, 2, 4 })
        {
            var record = (await ledger.Store.GetAsync(seq, CancellationToken.None))!;
            foreach (var mask in new[] { false, true })
            {
                var shown = JsonNode.Parse(Shown(ledger, record, mask))!;
                Assert.Equal("[erased]", shown["pii"]!.GetValue<string>());
                Assert.Equal("A256GCM", shown["pii_envelope"]!["alg"]!.GetValue<string>());
            }
        }

        var kept = JsonNode.Parse(Shown(ledger, (await ledger.Store.GetAsync(3, CancellationToken.None))!, maskPii: false))!;
        Assert.Equal("keep@example.com", kept["pii"]!["email"]!.GetValue<string>());
        var tombstone = (await ledger.Store.GetAsync(5, CancellationToken.None))!.Event;
        Assert.Equal(SubjectErasure.EventType, tombstone.Type);
        Assert.Equal("s1", tombstone.SubjectId);
        Assert.True((await ledger.VerifyAsync()).IsValid);
    }

    [Fact]
    public async Task A_second_erasure_reissues_the_certificate_and_appends_nothing_and_an_unknown_subject_is_null()
    {
        using var dir = new TempDirectory();
        await using var ledger = await AuditLedger.OpenAsync(new LedgerOptions { DataDirectory = dir.Path });
        await ledger.AppendAsync([WithPii("s1", "one@example.com")], "acme");
        var first = await ledger.Erasure.EraseAsync("acme", "s1", "officer", CancellationToken.None);
        var head = ledger.Head.Size;

        var again = await ledger.Erasure.EraseAsync("acme", "s1", "someone-else", CancellationToken.None);

        Assert.True(again!.Repeated);
        Assert.Equal(head, ledger.Head.Size);
        Assert.Equal(JsonNode.Parse(first!.Certificate)!["erasure_event"]!.ToJsonString(), JsonNode.Parse(again.Certificate)!["erasure_event"]!.ToJsonString());
        Assert.Null(await ledger.Erasure.EraseAsync("acme", "nobody", null, CancellationToken.None));
        Assert.Null(await ledger.Erasure.EraseAsync("globex", "s1", null, CancellationToken.None));
    }

    [Fact]
    public async Task A_failure_after_the_key_is_destroyed_is_completed_by_the_next_erasure_with_one_event()
    {
        using var dir = new TempDirectory();
        var options = new LedgerOptions { DataDirectory = dir.Path };
        await using (var ledger = await AuditLedger.OpenAsync(options))
        {
            await ledger.AppendAsync([WithPii("s1", "one@example.com")], "acme");
            ledger.Erasure.AfterKeyDestroyed = () => throw new IOException("injected crash");
            await Assert.ThrowsAsync<IOException>(() => ledger.Erasure.EraseAsync("acme", "s1", "officer", CancellationToken.None));
            Assert.Equal(1, ledger.Head.Size);
        }

        await using var reopened = await AuditLedger.OpenAsync(options);
        Assert.Contains("[erased]", Shown(reopened, (await reopened.Store.GetAsync(1, CancellationToken.None))!, maskPii: false), StringComparison.Ordinal);
        var certificate = await reopened.Erasure.EraseAsync("acme", "s1", "officer", CancellationToken.None);
        Assert.Equal(2, JsonNode.Parse(certificate!.Certificate)!["erasure_event"]!["seq"]!.GetValue<long>());
        Assert.Equal(2, reopened.Head.Size);
        Assert.True((await reopened.Erasure.EraseAsync("acme", "s1", "officer", CancellationToken.None))!.Repeated);
        Assert.Equal(2, reopened.Head.Size);
    }
}
