using AuditStream.Checkpoints;
using static AuditStream.Core.Tests.Checkpoints.PublishedVectors;

namespace AuditStream.Core.Tests.Checkpoints;

public sealed class CheckpointSigningTests : IDisposable
{
    private const string Origin = "auditstream.example/ledger";
    private static readonly byte[] s_root = Enumerable.Range(100, 32).Select(i => (byte)i).ToArray();

    private readonly NoteSigner _key = NoteSigner.Generate(Origin);

    public void Dispose() => _key.Dispose();

    [Fact]
    public void A_signed_checkpoint_opens_to_an_equal_checkpoint()
    {
        var checkpoint = new Checkpoint(Origin, 1000, s_root);
        var signed = new CheckpointSigner(_key).Sign(checkpoint);

        var result = new CheckpointVerifier(_key.Verifier).Open(signed);

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal(checkpoint, result.Checkpoint);
        Assert.Equal(checkpoint.ToNoteText(), result.Note.Text);
        Assert.StartsWith(checkpoint.ToNoteText() + "\n— auditstream.example/ledger ", signed, StringComparison.Ordinal);
    }

    [Fact]
    public void A_checkpoint_verifier_built_from_the_published_verifier_key_string_opens_what_the_signer_signed()
    {
        var signer = new CheckpointSigner(_key);
        var signed = signer.Sign(new Checkpoint(Origin, 3, s_root));

        var result = new CheckpointVerifier(NoteVerifier.Parse(signer.VerifierKey)).Open(signed);

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal(Origin, signer.Origin);
    }

    [Fact]
    public void A_checkpoint_with_a_changed_tree_size_is_a_bad_signature()
    {
        var signed = new CheckpointSigner(_key).Sign(new Checkpoint(Origin, 1000, s_root));
        var rolledBack = signed.Replace("\n1000\n", "\n999\n", StringComparison.Ordinal);

        var result = new CheckpointVerifier(_key.Verifier).Open(rolledBack);

        Assert.Equal(NoteFailure.BadSignature, result.Failure);
        Assert.Equal("bad_signature", result.ErrorCode);
        Assert.Null(result.Checkpoint);
    }

    [Fact]
    public void A_checkpoint_signed_by_another_key_is_from_an_unknown_key()
    {
        using var other = NoteSigner.Generate(Origin);
        var signed = new CheckpointSigner(other).Sign(new Checkpoint(Origin, 1, s_root));

        var result = new CheckpointVerifier(_key.Verifier).Open(signed);

        Assert.Equal(NoteFailure.UnknownKey, result.Failure);
        Assert.Equal("unknown_key", result.ErrorCode);
    }

    [Fact]
    public void A_checkpoint_verifier_accepts_any_of_its_keys_to_allow_rotation()
    {
        using var next = NoteSigner.Generate(Origin);
        var verifier = new CheckpointVerifier(Origin, _key.Verifier, next.Verifier);

        var byOld = verifier.Open(new CheckpointSigner(_key).Sign(new Checkpoint(Origin, 1, s_root)));
        var byNew = verifier.Open(new CheckpointSigner(next).Sign(new Checkpoint(Origin, 2, s_root)));

        Assert.True(byOld.Succeeded, byOld.ToString());
        Assert.True(byNew.Succeeded, byNew.ToString());
    }

    [Fact]
    public void A_validly_signed_note_that_is_not_a_checkpoint_is_malformed()
    {
        var signed = _key.Sign($"{Origin}\n01\n{Convert.ToBase64String(s_root)}\n");

        var result = new CheckpointVerifier(_key.Verifier).Open(signed);

        Assert.Equal(NoteFailure.Malformed, result.Failure);
        Assert.Contains("leading zero", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_note_is_malformed()
    {
        var result = new CheckpointVerifier(_key.Verifier).Open("not a note");

        Assert.Equal(NoteFailure.Malformed, result.Failure);
        Assert.Equal("malformed", result.ErrorCode);
    }

    [Fact]
    public void A_validly_signed_checkpoint_for_another_origin_is_rejected()
    {
        // The same key trusted for a different log: its checkpoint must not pass as ours.
        var signed = _key.Sign(new Checkpoint("other.example/log", 5, s_root).ToNoteText());

        var result = new CheckpointVerifier("auditstream.example/ledger", _key.Verifier).Open(signed);

        Assert.Equal(NoteFailure.WrongOrigin, result.Failure);
        Assert.Equal("wrong_origin", result.ErrorCode);
    }

    [Fact]
    public void The_signer_refuses_a_checkpoint_for_another_origin_than_its_key_name()
    {
        var signer = new CheckpointSigner(_key);

        Assert.Throws<ArgumentException>(() => signer.Sign(new Checkpoint("other.example/log", 1, s_root)));
    }

    [Fact]
    public void A_witness_cosignature_is_ignored_and_kept_in_the_opened_note()
    {
        using var witness = NoteSigner.Generate("witness.example/w1");
        var text = new Checkpoint(Origin, 9, s_root).ToNoteText();
        var signed = SignedNote.Sign(text, _key, witness);

        var result = new CheckpointVerifier(_key.Verifier).Open(signed);

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal(2, result.Note.Signatures.Count);
    }

    [Fact]
    public void A_checkpoint_verifier_needs_at_least_one_key()
    {
        Assert.Throws<ArgumentException>(() => new CheckpointVerifier(Origin));
        Assert.Throws<ArgumentException>(() => new CheckpointVerifier("", NoteVerifier.Parse(PeterVerifierKey)));
    }
}
