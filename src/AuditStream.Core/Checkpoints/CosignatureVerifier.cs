using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using NSec.Cryptography;

namespace AuditStream.Checkpoints;

/// <summary>A trusted witness: checks its Ed25519 <c>cosignature/v1</c> lines on a checkpoint (c2sp.org/tlog-cosignature).</summary>
public sealed class CosignatureVerifier
{
    private readonly PublicKey _publicKey;

    private CosignatureVerifier(string name, uint keyId, PublicKey publicKey, string verifierKey)
    {
        Name = name;
        KeyId = keyId;
        _publicKey = publicKey;
        VerifierKey = verifierKey;
    }

    /// <summary>The cosigner's name, as on its signature lines.</summary>
    public string Name { get; }

    /// <summary>The cosignature/v1 key ID.</summary>
    public uint KeyId { get; }

    /// <summary>The verifier key string this was parsed from.</summary>
    public string VerifierKey { get; }

    /// <summary>Parses <c>name+hex(id)+base64(0x04 ‖ 32-byte Ed25519 public key)</c>; the error says what is wrong.</summary>
    public static bool TryParse(string? verifierKey, [NotNullWhen(true)] out CosignatureVerifier? verifier, [NotNullWhen(false)] out string? error)
    {
        verifier = null;
        var trimmed = verifierKey?.Trim();
        if (!NoteFormat.TryParseEd25519VerifierKey(trimmed, Cosignature.Ed25519Type, out var name, out var keyId, out var publicKey, out error))
        {
            return false;
        }

        verifier = new CosignatureVerifier(name, keyId, publicKey, trimmed!);
        error = null;
        return true;
    }

    /// <summary>Parses a verifier key, throwing <see cref="FormatException"/> with the reason.</summary>
    public static CosignatureVerifier Parse(string verifierKey) =>
        TryParse(verifierKey, out var verifier, out var error) ? verifier : throw new FormatException($"Invalid cosigner key: {error}.");

    /// <summary>
    /// True, with the cosignature's timestamp, when <paramref name="signature"/> is this witness's cosignature of the
    /// checkpoint whose note text is <paramref name="checkpointText"/>; false for other keys or a bad signature.
    /// </summary>
    public bool Verify(string checkpointText, NoteSignature signature, out ulong timestamp)
    {
        ArgumentNullException.ThrowIfNull(checkpointText);
        ArgumentNullException.ThrowIfNull(signature);
        timestamp = 0;
        if (signature.KeyId != KeyId || !string.Equals(signature.KeyName, Name, StringComparison.Ordinal))
        {
            return false;
        }

        var bytes = signature.SignatureBytes();
        if (bytes.Length != 8 + NoteFormat.Ed25519SignatureSize)
        {
            return false;
        }

        var claimed = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        if (claimed == 0 || claimed > long.MaxValue
            || !SignatureAlgorithm.Ed25519.Verify(_publicKey, Cosignature.Message(checkpointText, claimed), bytes.AsSpan(8)))
        {
            return false;
        }

        timestamp = claimed;
        return true;
    }
}
