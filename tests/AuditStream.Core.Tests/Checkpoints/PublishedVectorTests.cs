using AuditStream.Checkpoints;
using static AuditStream.Core.Tests.Checkpoints.PublishedVectors;

namespace AuditStream.Core.Tests.Checkpoints;

public sealed class PublishedVectorTests
{
    [Fact]
    public void Signing_the_published_text_with_the_published_key_gives_the_published_note_byte_for_byte()
    {
        using var signer = NoteSigner.FromSignerKey(PeterSignerKey);

        Assert.Equal(PeterSignedNote, signer.Sign(Text));
    }

    [Fact]
    public void The_published_signer_key_derives_the_published_verifier_key()
    {
        using var signer = NoteSigner.FromSignerKey(PeterSignerKey);

        Assert.Equal(PeterVerifierKey, signer.VerifierKey);
        Assert.Equal("PeterNeumann", signer.Name);
        Assert.Equal(PeterKeyId, signer.KeyId);
    }

    [Fact]
    public void The_published_signer_key_round_trips_through_export()
    {
        using var signer = NoteSigner.FromSignerKey(PeterSignerKey);

        Assert.Equal(PeterSignerKey, signer.ExportSignerKey());
    }

    [Fact]
    public void The_published_note_opens_with_the_published_verifier_key()
    {
        var result = SignedNote.Open(PeterSignedNote, NoteVerifier.Parse(PeterVerifierKey));

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal(Text, result.Text);
        var signature = Assert.Single(result.VerifiedSignatures);
        Assert.Equal("PeterNeumann", signature.KeyName);
        Assert.Equal(PeterKeyId, signature.KeyId);
        Assert.Equal(PeterSignatureBase64, signature.Base64);
    }

    [Fact]
    public void The_c2sp_signed_note_example_opens_with_its_verifier_key()
    {
        var verifier = NoteVerifier.Parse(C2spVerifierKey);

        var result = SignedNote.Open(C2spSignedNote, verifier);

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal("This is an example message.\n", result.Text);
        Assert.Equal("example.com/foo", verifier.Name);
        Assert.Equal(0x530d903au, verifier.KeyId);
    }

    [Fact]
    public void A_note_signed_by_two_published_keys_opens_with_either_and_reports_only_the_known_one()
    {
        var note = Text + "\n" + PeterSignatureLine + EnochSignatureLine;
        var peter = NoteVerifier.Parse(PeterVerifierKey);
        var enoch = NoteVerifier.Parse(EnochVerifierKey);

        var byPeter = SignedNote.Open(note, peter);
        var byEnoch = SignedNote.Open(note, enoch);
        var byBoth = SignedNote.Open(note, peter, enoch);

        Assert.Equal(["PeterNeumann"], byPeter.VerifiedSignatures.Select(s => s.KeyName));
        Assert.Equal(["EnochRoot"], byEnoch.VerifiedSignatures.Select(s => s.KeyName));
        Assert.Equal(["PeterNeumann", "EnochRoot"], byBoth.VerifiedSignatures.Select(s => s.KeyName));
        Assert.Equal(EnochKeyId, byEnoch.VerifiedSignatures[0].KeyId);
    }

    [Fact]
    public void The_published_note_with_no_trusted_key_is_rejected_as_unknown_key()
    {
        var result = SignedNote.Open(Text + "\n" + PeterSignatureLine + EnochSignatureLine);

        Assert.False(result.Succeeded);
        Assert.Equal(NoteFailure.UnknownKey, result.Failure);
        Assert.Equal("unknown_key", result.ErrorCode);
        Assert.Null(result.Text);
        Assert.Contains("PeterNeumann+c74f20a3", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_tlog_checkpoint_example_parses_into_its_three_fields()
    {
        var note = SignedNote.Parse(TlogCheckpointNote);

        Assert.True(Checkpoint.TryParse(note.Text, out var checkpoint, out var error), error);
        Assert.Equal("example.com/behind-the-sofa", checkpoint.Origin);
        Assert.Equal(20852163, checkpoint.TreeSize);
        Assert.Equal(Convert.FromBase64String("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="), checkpoint.RootHash);
        Assert.Empty(checkpoint.Extensions);
        Assert.Equal(note.Text, checkpoint.ToNoteText());
        Assert.Equal("example.com/behind-the-sofa", Assert.Single(note.Signatures).KeyName);
    }

    [Fact]
    public void The_tlog_checkpoint_example_is_unknown_to_a_verifier_that_trusts_another_log()
    {
        var verifier = new CheckpointVerifier(NoteVerifier.Parse(PeterVerifierKey));

        var result = verifier.Open(TlogCheckpointNote);

        Assert.Equal(NoteFailure.UnknownKey, result.Failure);
        Assert.Null(result.Checkpoint);
    }
}
