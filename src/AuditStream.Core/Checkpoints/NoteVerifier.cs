using System.Diagnostics.CodeAnalysis;
using System.Text;
using NSec.Cryptography;

namespace AuditStream.Checkpoints;

/// <summary>
/// A trusted Ed25519 public key with its note key name, parsed from a verifier key
/// <c>name+hex(id)+base64(0x01 ‖ public key)</c> (c2sp.org/signed-note §Verifier keys); checks note signatures.
/// </summary>
public sealed class NoteVerifier
{
    private readonly PublicKey _publicKey;

    private NoteVerifier(string name, uint keyId, PublicKey publicKey, string verifierKey)
    {
        Name = name;
        KeyId = keyId;
        _publicKey = publicKey;
        VerifierKey = verifierKey;
    }

    /// <summary>The key name signatures by this key carry.</summary>
    public string Name { get; }

    /// <summary>The 32-bit key ID signatures by this key carry.</summary>
    public uint KeyId { get; }

    /// <summary>The verifier key string this verifier was built from (or would be exported as).</summary>
    public string VerifierKey { get; }

    /// <summary>Parses a verifier key; throws <see cref="FormatException"/> saying what is wrong with it.</summary>
    public static NoteVerifier Parse(string verifierKey)
    {
        ArgumentNullException.ThrowIfNull(verifierKey);
        return TryParse(verifierKey, out var verifier, out var error)
            ? verifier
            : throw new FormatException($"Invalid note verifier key: {error}.");
    }

    /// <summary>Parses a verifier key; on failure <paramref name="error"/> says what is wrong with it.</summary>
    public static bool TryParse(
        string? verifierKey,
        [NotNullWhen(true)] out NoteVerifier? verifier,
        [NotNullWhen(false)] out string? error)
    {
        verifier = null;
        if (!NoteFormat.TryParseEd25519VerifierKey(verifierKey, NoteFormat.Ed25519Type, out var name, out var keyId, out var publicKey, out error))
        {
            return false;
        }

        verifier = new NoteVerifier(name, keyId, publicKey, verifierKey!);
        error = null;
        return true;
    }

    /// <summary>Builds the verifier for an Ed25519 public key under <paramref name="name"/>.</summary>
    internal static NoteVerifier FromPublicKey(string name, PublicKey publicKey)
    {
        var raw = publicKey.Export(KeyBlobFormat.RawPublicKey);
        var keyId = NoteFormat.ComputeEd25519KeyId(name, raw);
        var verifierKey = $"{name}+{NoteFormat.FormatKeyId(keyId)}+{NoteFormat.EncodeTypedKey(raw)}";
        return new NoteVerifier(name, keyId, publicKey, verifierKey);
    }

    /// <summary>
    /// True when <paramref name="signature"/> was made by this key over <paramref name="text"/> (the note text,
    /// final newline included); false for another key's signature or a signature that does not verify.
    /// </summary>
    public bool Verify(string text, NoteSignature signature)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(signature);
        if (signature.KeyId != KeyId || !string.Equals(signature.KeyName, Name, StringComparison.Ordinal))
        {
            return false;
        }

        var signatureBytes = signature.SignatureBytes();
        return signatureBytes.Length == NoteFormat.Ed25519SignatureSize
            && SignatureAlgorithm.Ed25519.Verify(_publicKey, Encoding.UTF8.GetBytes(text), signatureBytes);
    }

    /// <summary>Returns <see cref="VerifierKey"/>.</summary>
    public override string ToString() => VerifierKey;
}
