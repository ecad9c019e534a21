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
        var parts = verifierKey?.Trim().Split('+', 3);
        if (parts is not { Length: 3 } || !NoteFormat.IsValidKeyName(parts[0]))
        {
            error = "expected <name>+<8 hex digits>+<base64 key>";
            return false;
        }

        if (!NoteFormat.TryParseKeyId(parts[1], out var keyId))
        {
            error = "the key ID is not 8 lowercase hex digits";
            return false;
        }

        if (!NoteFormat.TryDecodeBase64(parts[2], out var typed) || typed.Length != 33 || typed[0] != Cosignature.Ed25519Type)
        {
            error = "the key is not base64 of 0x04 followed by a 32-byte Ed25519 public key";
            return false;
        }

        if (Cosignature.ComputeKeyId(parts[0], typed.AsSpan(1)) != keyId)
        {
            error = "the key ID does not match the name and public key";
            return false;
        }

        if (!PublicKey.TryImport(SignatureAlgorithm.Ed25519, typed.AsSpan(1), KeyBlobFormat.RawPublicKey, out var publicKey))
        {
            error = "the public key is not a valid Ed25519 point";
            return false;
        }

        verifier = new CosignatureVerifier(parts[0], keyId, publicKey!, verifierKey!.Trim());
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
