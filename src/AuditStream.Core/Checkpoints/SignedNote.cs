using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace AuditStream.Checkpoints;

/// <summary>
/// A c2sp.org/signed-note: text ending in a newline, a blank line, then one signature line per key.
/// Parsing does not verify anything; use <see cref="Open"/> before trusting <see cref="Text"/>.
/// </summary>
public sealed class SignedNote
{
    /// <summary>
    /// The most signature lines a note may carry; more is malformed. The spec requires accepting at least 16
    /// (signed-note §Format); 100 matches golang.org/x/mod/sumdb/note.
    /// </summary>
    public const int MaxSignatures = 100;

    private SignedNote(string text, IReadOnlyList<NoteSignature> signatures)
    {
        Text = text;
        Signatures = signatures;
    }

    /// <summary>The note text, final newline included, blank separator line excluded.</summary>
    public string Text { get; }

    /// <summary>Every signature line in order, from known and unknown keys alike.</summary>
    public IReadOnlyList<NoteSignature> Signatures { get; }

    /// <summary>Signs <paramref name="text"/> with each signer and returns the encoded note.</summary>
    /// <exception cref="ArgumentException">The text does not end with a newline or contains a control character, or no signer is given.</exception>
    public static string Sign(string text, params ReadOnlySpan<NoteSigner> signers)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (NoteFormat.DescribeInvalidText(text) is { } problem)
        {
            throw new ArgumentException($"Cannot sign: {problem} (c2sp.org/signed-note).", nameof(text));
        }

        if (signers.IsEmpty)
        {
            throw new ArgumentException("At least one signer is required.", nameof(signers));
        }

        if (signers.Length > MaxSignatures)
        {
            throw new ArgumentException($"A note carries at most {MaxSignatures} signatures.", nameof(signers));
        }

        var signatures = new NoteSignature[signers.Length];
        for (var i = 0; i < signers.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(signers[i], nameof(signers));
            signatures[i] = signers[i].CreateSignature(text);
        }

        return new SignedNote(text, signatures).ToString();
    }

    /// <summary>Parses a signed note without verifying it; throws <see cref="FormatException"/> saying what is malformed.</summary>
    public static SignedNote Parse(string note)
    {
        ArgumentNullException.ThrowIfNull(note);
        return TryParse(note, out var parsed, out var error)
            ? parsed
            : throw new FormatException($"Malformed signed note: {error}.");
    }

    /// <summary>Parses a signed note without verifying it; on failure <paramref name="error"/> says what is malformed.</summary>
    public static bool TryParse(
        string? note,
        [NotNullWhen(true)] out SignedNote? parsed,
        [NotNullWhen(false)] out string? error)
    {
        parsed = null;
        if (note is null)
        {
            error = "the note is null";
            return false;
        }

        // signed-note §Format: valid UTF-8, no control characters but newline.
        var bad = NoteFormat.FindInvalidTextChar(note);
        if (bad >= 0)
        {
            error = $"control character or invalid UTF-16 at offset {bad}";
            return false;
        }

        // The text is separated from the signatures by the last empty line.
        var split = note.LastIndexOf("\n\n", StringComparison.Ordinal);
        if (split < 0)
        {
            error = "no blank line separates the text from the signatures";
            return false;
        }

        var text = note[..(split + 1)];
        var block = note.AsSpan(split + 2);
        if (block.IsEmpty)
        {
            error = "the note has no signature lines";
            return false;
        }

        if (block[^1] != '\n')
        {
            error = "the last signature line does not end with a newline";
            return false;
        }

        var lineCount = block.Count('\n');
        if (lineCount > MaxSignatures)
        {
            error = $"the note has {lineCount} signature lines, more than the {MaxSignatures} allowed";
            return false;
        }

        var signatures = new NoteSignature[lineCount];
        for (var i = 0; i < lineCount; i++)
        {
            var end = block.IndexOf('\n');
            if (!TryParseSignatureLine(block[..end].ToString(), out var signature, out var lineError))
            {
                error = $"signature line {i + 1}: {lineError}";
                return false;
            }

            signatures[i] = signature;
            block = block[(end + 1)..];
        }

        parsed = new SignedNote(text, signatures);
        error = null;
        return true;
    }

    /// <summary>
    /// Parses <paramref name="note"/> and verifies it against the trusted keys (signed-note §Signatures):
    /// signatures by unknown keys are ignored, every signature by a known key must verify, and at least one must.
    /// Never throws for bad input: a forged or damaged note is an expected input.
    /// </summary>
    /// <exception cref="ArgumentException">Two different known keys share a name and key ID, so a signature could not be attributed.</exception>
    public static NoteOpenResult Open(string note, params ReadOnlySpan<NoteVerifier> known)
    {
        return OpenIndexed(note, IndexVerifiers(known));
    }

    /// <summary><see cref="Open(string, ReadOnlySpan{NoteVerifier})"/> with keys already indexed by <see cref="IndexVerifiers"/>.</summary>
    internal static NoteOpenResult OpenIndexed(string note, Dictionary<(string Name, uint KeyId), NoteVerifier> verifiers)
    {
        if (!TryParse(note, out var parsed, out var error))
        {
            return NoteOpenResult.Rejected(NoteFailure.Malformed, error);
        }

        return parsed.Verify(verifiers);
    }

    /// <summary>The encoded note: text, blank line, one line per signature.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder(Text.Length + 1 + (Signatures.Count * 128));
        builder.Append(Text).Append('\n');
        foreach (var signature in Signatures)
        {
            builder.Append(NoteFormat.SignaturePrefix).Append(signature.KeyName).Append(' ').Append(signature.Base64).Append('\n');
        }

        return builder.ToString();
    }

    private NoteOpenResult Verify(Dictionary<(string Name, uint KeyId), NoteVerifier> verifiers)
    {
        var verified = new List<NoteSignature>();
        var unknown = new List<string>();
        foreach (var signature in Signatures)
        {
            if (!verifiers.TryGetValue((signature.KeyName, signature.KeyId), out var verifier))
            {
                // signed-note §Signatures: verifiers MUST ignore signatures from unknown keys.
                unknown.Add(signature.Key);
                continue;
            }

            // An identical copy of a verified line proves nothing new; any other line by a known key is checked.
            if (verified.Contains(signature))
            {
                continue;
            }

            // A known key's failed signature rejects the whole note (signed-note §Signatures, SHOULD).
            if (!verifier.Verify(Text, signature))
            {
                return NoteOpenResult.Rejected(
                    NoteFailure.BadSignature,
                    $"the signature by known key {signature.Key} does not verify: the note was altered or forged");
            }

            if (!verified.Exists(v => v.KeyId == signature.KeyId && v.KeyName == signature.KeyName))
            {
                verified.Add(signature);
            }
        }

        if (verified.Count == 0)
        {
            var signedBy = unknown.Count == 0 ? "nobody" : string.Join(", ", unknown.Distinct(StringComparer.Ordinal));
            var trusted = verifiers.Count == 0 ? "none" : string.Join(", ", verifiers.Values.Select(v => $"{v.Name}+{NoteFormat.FormatKeyId(v.KeyId)}"));
            return NoteOpenResult.Rejected(
                NoteFailure.UnknownKey,
                $"no signature is by a known key (signed by {signedBy}; trusted keys: {trusted})");
        }

        return NoteOpenResult.Verified(this, verified);
    }

    /// <summary>Indexes trusted keys by name and key ID, the pair a signature line names.</summary>
    /// <exception cref="ArgumentException">Two different keys share a name and key ID.</exception>
    internal static Dictionary<(string Name, uint KeyId), NoteVerifier> IndexVerifiers(ReadOnlySpan<NoteVerifier> known)
    {
        var index = new Dictionary<(string Name, uint KeyId), NoteVerifier>(known.Length);
        foreach (var verifier in known)
        {
            ArgumentNullException.ThrowIfNull(verifier, nameof(known));
            if (index.TryGetValue((verifier.Name, verifier.KeyId), out var existing)
                && !string.Equals(existing.VerifierKey, verifier.VerifierKey, StringComparison.Ordinal))
            {
                throw new ArgumentException(
                    $"Two different known keys are named {verifier.Name}+{NoteFormat.FormatKeyId(verifier.KeyId)}; signatures by them cannot be told apart. Trust only one.",
                    nameof(known));
            }

            index[(verifier.Name, verifier.KeyId)] = verifier;
        }

        return index;
    }

    private static bool TryParseSignatureLine(
        string line,
        [NotNullWhen(true)] out NoteSignature? signature,
        [NotNullWhen(false)] out string? error)
    {
        signature = null;
        if (!line.StartsWith(NoteFormat.SignaturePrefix, StringComparison.Ordinal))
        {
            error = "does not start with an em dash (U+2014) and a space";
            return false;
        }

        var rest = line.AsSpan(NoteFormat.SignaturePrefix.Length);
        var space = rest.IndexOf(' ');
        if (space < 0)
        {
            error = "expected '— <key name> <base64 signature>'";
            return false;
        }

        var name = rest[..space].ToString();
        var base64 = rest[(space + 1)..].ToString();
        if (!NoteFormat.IsValidKeyName(name))
        {
            error = "the key name is empty or contains a space, '+' or control character";
            return false;
        }

        if (!NoteFormat.TryDecodeBase64(base64, out var raw))
        {
            error = "the signature is not canonical base64";
            return false;
        }

        // A key ID and at least one byte of signature.
        if (raw.Length < 5)
        {
            error = "the signature is shorter than a key ID and a signature";
            return false;
        }

        signature = new NoteSignature(name, BinaryPrimitives.ReadUInt32BigEndian(raw), base64);
        error = null;
        return true;
    }
}
