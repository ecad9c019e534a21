using AuditStream.Checkpoints;
using static AuditStream.Core.Tests.Checkpoints.PublishedVectors;

namespace AuditStream.Core.Tests.Checkpoints;

public sealed class NoteKeyTests
{
    /// <summary>Every proper substring and every one-character bump of <paramref name="key"/>, as note_test.go mangles keys.</summary>
    private static IEnumerable<string> ManglingsOf(string key)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { key };
        for (var start = 0; start < key.Length; start++)
        {
            for (var end = start + 1; end <= key.Length; end++)
            {
                if (seen.Add(key[start..end]))
                {
                    yield return key[start..end];
                }
            }
        }

        for (var i = 0; i < key.Length; i++)
        {
            var chars = key.ToCharArray();
            chars[i]++;
            if (seen.Add(new string(chars)))
            {
                yield return new string(chars);
            }
        }
    }

    [Fact]
    public void Every_substring_or_one_character_change_of_a_verifier_key_is_rejected()
    {
        var accepted = ManglingsOf(PeterVerifierKey).Where(k => NoteVerifier.TryParse(k, out _, out _)).ToList();

        Assert.Empty(accepted);
    }

    [Fact]
    public void Every_substring_or_one_character_change_of_a_signer_key_is_rejected()
    {
        var accepted = ManglingsOf(PeterSignerKey).Where(k =>
        {
            try
            {
                NoteSigner.FromSignerKey(k).Dispose();
                return true;
            }
            catch (FormatException)
            {
                return false;
            }
        }).ToList();

        Assert.Empty(accepted);
    }

    [Theory]
    [InlineData("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==")] // note_test.go: wrong length, adjusted ID
    [InlineData("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")] // note_test.go: unknown algorithm, adjusted ID
    public void Published_bad_verifier_keys_are_rejected(string verifierKey)
    {
        Assert.False(NoteVerifier.TryParse(verifierKey, out _, out _));
        Assert.Throws<FormatException>(() => NoteVerifier.Parse(verifierKey));
    }

    [Fact]
    public void A_verifier_key_with_an_unknown_signature_type_says_so()
    {
        // note_test.go's unknown-algorithm key: type byte 0x65 instead of 0x01, key ID recomputed for it.
        var parsed = NoteVerifier.TryParse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", out _, out var error);

        Assert.False(parsed);

        Assert.Contains("unsupported signature type 0x65", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_verifier_key_whose_id_does_not_match_its_key_says_so()
    {
        var parsed = NoteVerifier.TryParse("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", out _, out var error);

        Assert.False(parsed);

        Assert.Contains("key ID does not match", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_verifier_key_with_an_uppercase_key_id_is_rejected_because_hex_is_lowercase()
    {
        Assert.False(NoteVerifier.TryParse("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", out _, out _));
    }

    [Fact]
    public void A_generated_signer_exports_keys_that_load_back_to_the_same_key()
    {
        using var signer = NoteSigner.Generate("auditstream.example/ledger");

        using var reloaded = NoteSigner.FromSignerKey(signer.ExportSignerKey());
        var verifier = NoteVerifier.Parse(signer.VerifierKey);

        Assert.Equal(signer.VerifierKey, reloaded.VerifierKey);
        Assert.Equal(signer.KeyId, verifier.KeyId);
        Assert.Equal("auditstream.example/ledger", verifier.Name);
        Assert.StartsWith("PRIVATE+KEY+auditstream.example/ledger+", signer.ExportSignerKey(), StringComparison.Ordinal);
        Assert.Matches("^auditstream\\.example/ledger\\+[0-9a-f]{8}\\+[A-Za-z0-9+/]{44}$", signer.VerifierKey);
    }

    [Fact]
    public void Two_generated_keys_with_the_same_name_differ()
    {
        using var a = NoteSigner.Generate("auditstream.example/ledger");
        using var b = NoteSigner.Generate("auditstream.example/ledger");

        Assert.NotEqual(a.VerifierKey, b.VerifierKey);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("has+plus")]
    [InlineData("has\ttab")]
    [InlineData("has\u00a0nbsp")]
    [InlineData("has\u2003emspace")]
    [InlineData("has\nnewline")]
    public void Key_names_that_are_empty_or_contain_spaces_or_plus_are_refused(string name)
    {
        Assert.Throws<ArgumentException>(() => NoteSigner.Generate(name));
    }

    [Fact]
    public void The_signer_never_shows_its_private_key_in_ToString_or_errors()
    {
        using var signer = NoteSigner.FromSignerKey(PeterSignerKey);
        var seed = PeterSignerKey.Split('+', 5)[4];
        var truncated = PeterSignerKey[..^1];

        var error = Assert.Throws<FormatException>(() => NoteSigner.FromSignerKey(truncated));

        Assert.Equal("PeterNeumann+c74f20a3", signer.ToString());
        Assert.DoesNotContain(seed[..10], error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_verifier_checks_only_signatures_by_its_own_key_over_the_exact_text()
    {
        var verifier = NoteVerifier.Parse(PeterVerifierKey);
        var note = SignedNote.Parse(Text + "\n" + PeterSignatureLine + EnochSignatureLine);

        Assert.True(verifier.Verify(Text, note.Signatures[0]));
        Assert.False(verifier.Verify(Text + "x\n", note.Signatures[0]));
        Assert.False(verifier.Verify(Text, note.Signatures[1]));
    }

    [Fact]
    public void A_disposed_signer_refuses_to_sign()
    {
        var signer = NoteSigner.Generate("auditstream.example/ledger");
        signer.Dispose();

        Assert.Throws<ObjectDisposedException>(() => signer.Sign("text\n"));
        Assert.Throws<ObjectDisposedException>(() => signer.ExportSignerKey());
    }
}
