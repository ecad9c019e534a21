using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace AuditStream.Checkpoints;

/// <summary>The lexical rules of c2sp.org/signed-note shared by notes, signatures and keys.</summary>
internal static class NoteFormat
{
    /// <summary>Signature type identifier byte for Ed25519 (signed-note §Signature types).</summary>
    public const byte Ed25519Type = 0x01;

    public const int Ed25519PublicKeySize = 32;
    public const int Ed25519SeedSize = 32;
    public const int Ed25519SignatureSize = 64;

    /// <summary>Prefix of every signature line: em dash U+2014 and a space.</summary>
    public const string SignaturePrefix = "\u2014 ";

    /// <summary>
    /// Key names are non-empty and contain no Unicode space and no <c>+</c> (signed-note §Format); control
    /// characters and lone surrogates are refused too because a name must fit on a valid signature line.
    /// </summary>
    public static bool IsValidKeyName([NotNullWhen(true)] string? name)
    {
        if (string.IsNullOrEmpty(name) || FindInvalidTextChar(name) >= 0)
        {
            return false;
        }

        foreach (var rune in name.EnumerateRunes())
        {
            if (rune.Value == '+' || rune.Value == '\n' || Rune.IsWhiteSpace(rune))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Index of the first character a note may not contain, or -1. Notes are valid UTF-8 without ASCII control
    /// characters other than newline (signed-note §Format); in UTF-16 a lone surrogate is what invalid UTF-8 becomes.
    /// </summary>
    public static int FindInvalidTextChar(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c < 0x20 && c != '\n')
            {
                return i;
            }

            if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]))
                {
                    return i;
                }

                i++;
            }
            else if (char.IsLowSurrogate(c))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Describes why <paramref name="text"/> cannot be signed note text, or returns null when it can.</summary>
    public static string? DescribeInvalidText(string text)
    {
        if (text.Length == 0 || text[^1] != '\n')
        {
            return "note text must end with a newline";
        }

        var bad = FindInvalidTextChar(text);
        return bad < 0
            ? null
            : $"note text contains a control character or invalid UTF-16 at offset {bad}";
    }

    /// <summary>
    /// Decodes standard base64 (RFC 4648 §4) and accepts only the canonical encoding, so whitespace, missing
    /// padding and non-zero trailing bits (which <see cref="Convert"/> tolerates) are rejected.
    /// </summary>
    public static bool TryDecodeBase64(string text, [NotNullWhen(true)] out byte[]? bytes)
    {
        bytes = null;
        if (text.Length == 0 || text.Length % 4 != 0)
        {
            return false;
        }

        var buffer = new byte[text.Length / 4 * 3];
        if (!Convert.TryFromBase64String(text, buffer, out var written))
        {
            return false;
        }

        var decoded = buffer.AsSpan(0, written).ToArray();
        if (!string.Equals(Convert.ToBase64String(decoded), text, StringComparison.Ordinal))
        {
            return false;
        }

        bytes = decoded;
        return true;
    }

    /// <summary>Key ID = SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key)[:4], big-endian (signed-note §Ed25519 signatures).</summary>
    public static uint ComputeEd25519KeyId(string keyName, ReadOnlySpan<byte> publicKey) => ComputeKeyId(keyName, Ed25519Type, publicKey);

    /// <summary>
    /// The key ID of a verifier key: the first 4 bytes (big-endian) of SHA-256(name ‖ 0x0A ‖ <paramref name="type"/> ‖ key)
    /// (c2sp.org/signed-note; tlog-cosignature uses the same with its own type byte).
    /// </summary>
    public static uint ComputeKeyId(string keyName, byte type, ReadOnlySpan<byte> publicKey)
    {
        ArgumentNullException.ThrowIfNull(keyName);
        var nameLength = Encoding.UTF8.GetByteCount(keyName);
        var input = new byte[nameLength + 2 + publicKey.Length];
        Encoding.UTF8.GetBytes(keyName, input);
        input[nameLength] = (byte)'\n';
        input[nameLength + 1] = type;
        publicKey.CopyTo(input.AsSpan(nameLength + 2));

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(input, hash);
        return BinaryPrimitives.ReadUInt32BigEndian(hash);
    }

    /// <summary>
    /// Parses an Ed25519 verifier key <c>name+hex(id)+base64(type ‖ 32-byte public key)</c> whose type byte must be
    /// <paramref name="type"/> (0x01 for note signers, 0x04 for cosigners); on failure <paramref name="error"/> says what is wrong.
    /// </summary>
    internal static bool TryParseEd25519VerifierKey(
        string? verifierKey,
        byte type,
        [NotNullWhen(true)] out string? name,
        out uint keyId,
        [NotNullWhen(true)] out NSec.Cryptography.PublicKey? publicKey,
        [NotNullWhen(false)] out string? error)
    {
        name = null;
        keyId = 0;
        publicKey = null;
        if (verifierKey is null)
        {
            error = "the key is null";
            return false;
        }

        // name+id+key; the name has no '+', the base64 key may.
        var parts = verifierKey.Split('+', 3);
        if (parts.Length != 3)
        {
            error = "expected <name>+<8 hex digits>+<base64 key>";
            return false;
        }

        var (keyName, idText, keyText) = (parts[0], parts[1], parts[2]);
        if (!IsValidKeyName(keyName))
        {
            error = "the key name is empty or contains a space, '+' or control character";
            return false;
        }

        if (!TryParseKeyId(idText, out keyId))
        {
            error = "the key ID is not 8 lowercase hex digits";
            return false;
        }

        if (!TryDecodeBase64(keyText, out var typedKey) || typedKey.Length == 0)
        {
            error = "the key is not canonical base64";
            return false;
        }

        if (typedKey[0] != type)
        {
            error = $"unsupported signature type 0x{typedKey[0]:x2} (only 0x{type:x2} Ed25519 is supported)";
            return false;
        }

        if (typedKey.Length != 1 + Ed25519PublicKeySize)
        {
            error = $"an Ed25519 public key is {Ed25519PublicKeySize} bytes, not {typedKey.Length - 1}";
            return false;
        }

        var rawKey = typedKey.AsSpan(1);
        if (ComputeKeyId(keyName, type, rawKey) != keyId)
        {
            error = "the key ID does not match the key name and public key";
            return false;
        }

        if (!NSec.Cryptography.PublicKey.TryImport(NSec.Cryptography.SignatureAlgorithm.Ed25519, rawKey, NSec.Cryptography.KeyBlobFormat.RawPublicKey, out publicKey) || publicKey is null)
        {
            error = "the public key is not a valid Ed25519 point";
            return false;
        }

        name = keyName;
        error = null;
        return true;
    }

    /// <summary>Key IDs are written as exactly 8 lowercase hex digits (signed-note §Conventions).</summary>
    public static string FormatKeyId(uint keyId) => keyId.ToString("x8", CultureInfo.InvariantCulture);

    public static bool TryParseKeyId(string text, out uint keyId)
    {
        keyId = 0;
        if (text.Length != 8)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiHexDigitLower(c))
            {
                return false;
            }
        }

        return uint.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out keyId);
    }

    /// <summary>Encodes type ‖ key material in base64, as in both verifier and signer key strings.</summary>
    public static string EncodeTypedKey(ReadOnlySpan<byte> keyMaterial)
    {
        Span<byte> typed = stackalloc byte[1 + keyMaterial.Length];
        typed[0] = Ed25519Type;
        keyMaterial.CopyTo(typed[1..]);
        var encoded = Convert.ToBase64String(typed);
        CryptographicOperations.ZeroMemory(typed);
        return encoded;
    }
}
