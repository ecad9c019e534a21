using AuditStream.Checkpoints;
using CsCheck;
using static AuditStream.Core.Tests.Checkpoints.PublishedVectors;

namespace AuditStream.Core.Tests.Checkpoints;

public sealed class SignedNoteTests : IDisposable
{
    private readonly NoteSigner _ledger = NoteSigner.Generate("auditstream.example/ledger");
    private readonly NoteSigner _witness = NoteSigner.Generate("witness.example/w1");

    public void Dispose()
    {
        _ledger.Dispose();
        _witness.Dispose();
    }

    [Fact]
    public void A_signed_note_opens_with_its_key_and_gives_back_the_exact_text()
    {
        const string text = "auditstream.example/ledger\n42\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";

        var result = SignedNote.Open(_ledger.Sign(text), _ledger.Verifier);

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal(text, result.Text);
        Assert.Null(result.Failure);
        Assert.Null(result.ErrorCode);
    }

    [Fact]
    public void Any_valid_text_round_trips_and_any_single_character_change_is_a_bad_signature()
    {
        var gen = Gen.Select(Gen.String[Gen.Char["ab Z09—é\n"], 0, 40], Gen.Int[0, 1000]);

        gen.Sample((body, position) =>
        {
            var text = body + "\n";
            var note = _ledger.Sign(text);
            var opened = SignedNote.Open(note, _ledger.Verifier);
            Assert.True(opened.Succeeded, opened.ToString());
            Assert.Equal(text, opened.Text);

            // Change one character of the text to another allowed one that is not a newline,
            // so the note stays well formed and only the signature can catch it.
            var i = position % text.Length;
            if (text[i] == '\n')
            {
                return;
            }

            var tampered = text[..i] + (text[i] == 'a' ? 'b' : 'a') + note[(i + 1)..];
            Assert.Equal(NoteFailure.BadSignature, SignedNote.Open(tampered, _ledger.Verifier).Failure);
        }, iter: 200);
    }

    [Fact]
    public void Changing_the_text_of_the_published_note_is_a_bad_signature()
    {
        var tampered = PeterSignedNote.Replace("cryptography", "cryptographx", StringComparison.Ordinal);

        var result = SignedNote.Open(tampered, NoteVerifier.Parse(PeterVerifierKey));

        Assert.Equal(NoteFailure.BadSignature, result.Failure);
        Assert.Equal("bad_signature", result.ErrorCode);
        Assert.Contains("PeterNeumann+c74f20a3", result.Error, StringComparison.Ordinal);
        Assert.Null(result.Text);
    }

    [Fact]
    public void Flipping_any_signature_byte_after_the_key_id_is_a_bad_signature()
    {
        var verifier = NoteVerifier.Parse(PeterVerifierKey);
        var raw = Convert.FromBase64String(PeterSignatureBase64);
        var failures = new List<int>();

        for (var i = 4; i < raw.Length; i++)
        {
            var flipped = (byte[])raw.Clone();
            flipped[i] ^= 0x01;
            var note = Text + "\n— PeterNeumann " + Convert.ToBase64String(flipped) + "\n";
            if (SignedNote.Open(note, verifier).Failure != NoteFailure.BadSignature)
            {
                failures.Add(i);
            }
        }

        Assert.Empty(failures);
    }

    [Fact]
    public void A_signature_of_the_wrong_length_from_a_known_key_is_a_bad_signature()
    {
        // note_test.go: "ABCD" spliced into the signature.
        var spliced = PeterSignatureLine[..60] + "ABCD" + PeterSignatureLine[60..];

        var result = SignedNote.Open(Text + "\n" + spliced, NoteVerifier.Parse(PeterVerifierKey));

        Assert.Equal(NoteFailure.BadSignature, result.Failure);
    }

    [Fact]
    public void A_signature_whose_key_id_was_changed_is_from_an_unknown_key()
    {
        var raw = Convert.FromBase64String(PeterSignatureBase64);
        raw[0] ^= 0x01;
        var note = Text + "\n— PeterNeumann " + Convert.ToBase64String(raw) + "\n";

        var result = SignedNote.Open(note, NoteVerifier.Parse(PeterVerifierKey));

        Assert.Equal(NoteFailure.UnknownKey, result.Failure);
    }

    [Fact]
    public void A_note_signed_by_another_key_with_the_same_name_is_from_an_unknown_key()
    {
        using var impostor = NoteSigner.Generate("auditstream.example/ledger");

        var result = SignedNote.Open(impostor.Sign("text\n"), _ledger.Verifier);

        Assert.Equal(NoteFailure.UnknownKey, result.Failure);
        Assert.Equal("unknown_key", result.ErrorCode);
    }

    [Fact]
    public void Signatures_from_unknown_keys_are_ignored_when_a_known_one_verifies()
    {
        var note = SignedNote.Sign("text\n", _witness, _ledger);

        var result = SignedNote.Open(note, _ledger.Verifier);

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal("auditstream.example/ledger", Assert.Single(result.VerifiedSignatures).KeyName);
        Assert.Equal(2, result.Note.Signatures.Count);
    }

    [Fact]
    public void A_note_with_several_signatures_verifies_each_known_one()
    {
        var note = SignedNote.Sign("text\n", _ledger, _witness);

        var result = SignedNote.Open(note, _witness.Verifier, _ledger.Verifier);

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal(
            ["auditstream.example/ledger", "witness.example/w1"],
            result.VerifiedSignatures.Select(s => s.KeyName));
    }

    [Fact]
    public void One_bad_signature_from_a_known_key_rejects_the_note_even_if_another_verifies()
    {
        var text = "text\n";
        var witnessSignatureOverOtherText = SignedNote.Parse(_witness.Sign("other\n")).Signatures[0];
        var note = _ledger.Sign(text) + witnessSignatureOverOtherText + "\n";

        var result = SignedNote.Open(note, _ledger.Verifier, _witness.Verifier);

        Assert.Equal(NoteFailure.BadSignature, result.Failure);
        Assert.Contains("witness.example/w1", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Repeated_copies_of_a_valid_signature_are_counted_once()
    {
        // note_test.go: duplicated verified and unverified signatures.
        var note = Text + "\n" + PeterSignatureLine + PeterSignatureLine + EnochSignatureLine + EnochSignatureLine;

        var result = SignedNote.Open(note, NoteVerifier.Parse(PeterVerifierKey));

        Assert.True(result.Succeeded, result.ToString());
        Assert.Single(result.VerifiedSignatures);
    }

    [Fact]
    public void Up_to_the_signature_limit_is_accepted_and_one_more_is_malformed()
    {
        var verifier = NoteVerifier.Parse(PeterVerifierKey);
        var atLimit = Text + "\n" + string.Concat(Enumerable.Repeat(PeterSignatureLine, SignedNote.MaxSignatures));
        var overLimit = atLimit + PeterSignatureLine;

        Assert.True(SignedNote.Open(atLimit, verifier).Succeeded);
        var result = SignedNote.Open(overLimit, verifier);
        Assert.Equal(NoteFailure.Malformed, result.Failure);
        Assert.Contains("more than the 100", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_spec_minimum_of_sixteen_signatures_is_accepted()
    {
        var signers = Enumerable.Range(0, 16).Select(i => NoteSigner.Generate($"witness.example/w{i}")).ToArray();
        try
        {
            var note = SignedNote.Sign("text\n", signers);

            var result = SignedNote.Open(note, signers.Select(s => s.Verifier).ToArray());

            Assert.Equal(16, result.VerifiedSignatures.Count);
        }
        finally
        {
            foreach (var signer in signers)
            {
                signer.Dispose();
            }
        }
    }

    public static TheoryData<string, string> MalformedNotes() => new()
    {
        // note_test.go "Invalid encoded message syntax", then our own.
        { Text, "no blank line" },
        { Text + "\n", "no signature lines" },
        { Text + "\n" + PeterSignatureLine[..^1], "does not end with a newline" },
        { "\x01" + Text + "\n" + PeterSignatureLine, "control character" },
        { Text + "\n— Bad Name " + PeterSignatureBase64 + "\n", "signature line 1: " }, // the space splits the name, so the rest is not base64
        { Text + "\n" + PeterSignatureLine + "Unexpected line.\n", "signature line 2: does not start with an em dash" },
        { Text + "\n- PeterNeumann " + PeterSignatureBase64 + "\n", "signature line 1: does not start with an em dash" },
        { Text + "\n—PeterNeumann " + PeterSignatureBase64 + "\n", "signature line 1: does not start with an em dash" },
        { Text + "\n— PeterNeumann\n", "signature line 1: expected" },
        { Text + "\n— PeterNeumann x08go/ZJ!!\n", "not canonical base64" },
        { Text + "\n— PeterNeumann " + PeterSignatureBase64[..^1] + "\n", "not canonical base64" },
        { Text + "\n— PeterNeumann " + PeterSignatureBase64 + " \n", "not canonical base64" },
        { Text + "\n— PeterNeumann AAAAAA==\n", "shorter than a key ID and a signature" },
        { Text + "\r\n" + PeterSignatureLine, "control character" },
    };

    [Theory]
    [MemberData(nameof(MalformedNotes))]
    public void Malformed_notes_are_rejected_as_malformed_with_a_reason(string note, string reason)
    {
        var result = SignedNote.Open(note, NoteVerifier.Parse(PeterVerifierKey));

        Assert.Equal(NoteFailure.Malformed, result.Failure);
        Assert.Equal("malformed", result.ErrorCode);
        Assert.Contains(reason, result.Error, StringComparison.Ordinal);
        Assert.False(SignedNote.TryParse(note, out _, out _));
        Assert.Throws<FormatException>(() => SignedNote.Parse(note));
    }

    [Fact]
    public void A_note_with_a_lone_surrogate_which_is_not_valid_utf8_is_malformed()
    {
        // Kept out of theory data: xunit's serialisation would replace the lone surrogate with U+FFFD.
        var note = "\ud800" + PeterSignedNote;

        var result = SignedNote.Open(note, NoteVerifier.Parse(PeterVerifierKey));

        Assert.Equal(NoteFailure.Malformed, result.Failure);
        Assert.Contains("invalid UTF-16 at offset 0", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_may_contain_blank_lines_because_the_last_blank_line_separates_the_signatures()
    {
        const string text = "first\n\nthird\n\n";

        var result = SignedNote.Open(_ledger.Sign(text), _ledger.Verifier);

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal(text, result.Text);
    }

    [Theory]
    [InlineData("")]
    [InlineData("no final newline")]
    [InlineData("tab\there\n")]
    [InlineData("carriage return\r\n")]
    public void Signing_text_that_cannot_be_a_note_throws(string text)
    {
        Assert.Throws<ArgumentException>(() => _ledger.Sign(text));
    }

    [Fact]
    public void Parsing_and_printing_a_note_gives_back_the_same_note()
    {
        var note = Text + "\n" + PeterSignatureLine + EnochSignatureLine;

        var parsed = SignedNote.Parse(note);

        Assert.Equal(note, parsed.ToString());
        Assert.Equal(Text, parsed.Text);
        Assert.Equal(["PeterNeumann+c74f20a3", "EnochRoot+af0cfe78"], parsed.Signatures.Select(s => s.Key));
    }

    [Fact]
    public void Trusting_the_same_key_twice_is_harmless()
    {
        var peter = NoteVerifier.Parse(PeterVerifierKey);
        var samePeter = NoteVerifier.Parse(PeterVerifierKey);

        var result = SignedNote.Open(PeterSignedNote, peter, samePeter);

        Assert.True(result.Succeeded, result.ToString());
    }
}
