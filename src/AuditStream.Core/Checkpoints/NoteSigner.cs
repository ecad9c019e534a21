using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using NSec.Cryptography;

namespace AuditStream.Checkpoints;

/// <summary>
/// An Ed25519 private key with its note key name: signs note text into c2sp.org/signed-note form.
/// Owns the private key; dispose it when the key is no longer needed.
/// </summary>
public sealed class NoteSigner : IDisposable
{
    private const string SignerKeyPrefix = "PRIVATE+KEY+";

    private readonly Key _key;
    private bool _disposed;

    private NoteSigner(string name, Key key)
    {
        _key = key;
        Name = name;
        Verifier = NoteVerifier.FromPublicKey(name, key.PublicKey);
    }

    /// <summary>The key name written on signature lines.</summary>
    public string Name { get; }

    /// <summary>The 32-bit key ID written at the start of each signature.</summary>
    public uint KeyId => Verifier.KeyId;

    /// <summary>The verifier for this key's signatures.</summary>
    public NoteVerifier Verifier { get; }

    /// <summary>The public verifier key string <c>name+hex(id)+base64(0x01 ‖ public key)</c> to publish to clients.</summary>
    public string VerifierKey => Verifier.VerifierKey;

    /// <summary>Generates a new random Ed25519 key named <paramref name="name"/>.</summary>
    public static NoteSigner Generate(string name)
    {
        ThrowIfInvalidName(name);
        return new NoteSigner(name, Key.Create(SignatureAlgorithm.Ed25519, Exportable()));
    }

    /// <summary>
    /// Loads a signer key <c>PRIVATE+KEY+name+hex(id)+base64(0x01 ‖ 32-byte seed)</c> as written by
    /// <see cref="ExportSignerKey"/> or golang.org/x/mod/sumdb/note; throws <see cref="FormatException"/>
    /// saying what is wrong (never echoing the key).
    /// </summary>
    public static NoteSigner FromSignerKey(string signerKey)
    {
        ArgumentNullException.ThrowIfNull(signerKey);
        if (!signerKey.StartsWith(SignerKeyPrefix, StringComparison.Ordinal))
        {
            throw InvalidSignerKey("it does not start with PRIVATE+KEY+");
        }

        // name+id+key; the name has no '+', the base64 key may.
        var parts = signerKey[SignerKeyPrefix.Length..].Split('+', 3);
        if (parts.Length != 3)
        {
            throw InvalidSignerKey("expected PRIVATE+KEY+<name>+<8 hex digits>+<base64 key>");
        }

        var (name, idText, keyText) = (parts[0], parts[1], parts[2]);
        if (!NoteFormat.IsValidKeyName(name))
        {
            throw InvalidSignerKey("the key name is empty or contains a space, '+' or control character");
        }

        if (!NoteFormat.TryParseKeyId(idText, out var keyId))
        {
            throw InvalidSignerKey("the key ID is not 8 lowercase hex digits");
        }

        if (!NoteFormat.TryDecodeBase64(keyText, out var typedSeed) || typedSeed.Length == 0)
        {
            throw InvalidSignerKey("the key is not canonical base64");
        }

        try
        {
            if (typedSeed[0] != NoteFormat.Ed25519Type)
            {
                throw InvalidSignerKey($"unsupported signature type 0x{typedSeed[0]:x2} (only 0x01 Ed25519 is supported)");
            }

            if (typedSeed.Length != 1 + NoteFormat.Ed25519SeedSize)
            {
                throw InvalidSignerKey($"an Ed25519 private key seed is {NoteFormat.Ed25519SeedSize} bytes, not {typedSeed.Length - 1}");
            }

            var key = Key.Import(SignatureAlgorithm.Ed25519, typedSeed.AsSpan(1), KeyBlobFormat.RawPrivateKey, Exportable());
            var signer = new NoteSigner(name, key);
            if (signer.KeyId != keyId)
            {
                signer.Dispose();
                throw InvalidSignerKey("the key ID does not match the key name and public key");
            }

            return signer;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(typedSeed);
        }
    }

    /// <summary>
    /// The private signer key string <c>PRIVATE+KEY+name+hex(id)+base64(0x01 ‖ seed)</c>, compatible with
    /// golang.org/x/mod/sumdb/note. Anyone holding it can sign as this log: store it like a password.
    /// </summary>
    public string ExportSignerKey()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var seed = _key.Export(KeyBlobFormat.RawPrivateKey);
        try
        {
            return $"{SignerKeyPrefix}{Name}+{NoteFormat.FormatKeyId(KeyId)}+{NoteFormat.EncodeTypedKey(seed)}";
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>
    /// Signs <paramref name="text"/> and returns the signed note: the text, a blank line and this key's signature line.
    /// The text must end with a newline and contain no control characters other than newline.
    /// </summary>
    public string Sign(string text) => SignedNote.Sign(text, this);

    /// <summary>Signs <paramref name="text"/> (validated by the caller) and returns the signature line's value.</summary>
    internal NoteSignature CreateSignature(string text)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Span<byte> keyIdAndSignature = stackalloc byte[4 + NoteFormat.Ed25519SignatureSize];
        BinaryPrimitives.WriteUInt32BigEndian(keyIdAndSignature, KeyId);
        SignatureAlgorithm.Ed25519.Sign(_key, Encoding.UTF8.GetBytes(text), keyIdAndSignature[4..]);
        return new NoteSignature(Name, KeyId, Convert.ToBase64String(keyIdAndSignature));
    }

    /// <summary>Signs raw bytes with this key, for formats that sign a message other than the note text (cosignature/v1).</summary>
    internal void SignMessage(ReadOnlySpan<byte> message, Span<byte> signature)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        SignatureAlgorithm.Ed25519.Sign(_key, message, signature);
    }

    /// <summary>The raw 32-byte Ed25519 public key.</summary>
    internal byte[] PublicKeyBytes() => _key.PublicKey.Export(KeyBlobFormat.RawPublicKey);

    /// <summary>Destroys the private key.</summary>
    public void Dispose()
    {
        _disposed = true;
        _key.Dispose();
    }

    /// <summary>Returns the key name and ID, never the private key.</summary>
    public override string ToString() => $"{Name}+{NoteFormat.FormatKeyId(KeyId)}";

    private static void ThrowIfInvalidName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!NoteFormat.IsValidKeyName(name))
        {
            throw new ArgumentException(
                "A note key name must be non-empty and contain no spaces, '+' or control characters (c2sp.org/signed-note).",
                nameof(name));
        }
    }

    // The seed must be exportable so the ledger can persist it (ExportSignerKey); NSec forbids export by default.
    private static KeyCreationParameters Exportable() => new() { ExportPolicy = KeyExportPolicies.AllowPlaintextExport };

    private static FormatException InvalidSignerKey(string reason) => new($"Invalid note signer key: {reason}.");
}
