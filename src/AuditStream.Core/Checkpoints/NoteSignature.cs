namespace AuditStream.Checkpoints;

/// <summary>One signature line of a signed note: which key (name and ID) signed it, and the signature as written.</summary>
public sealed record NoteSignature
{
    internal NoteSignature(string keyName, uint keyId, string base64)
    {
        KeyName = keyName;
        KeyId = keyId;
        Base64 = base64;
    }

    /// <summary>The key name, e.g. <c>auditstream.example/ledger</c>.</summary>
    public string KeyName { get; }

    /// <summary>The 32-bit key ID carried in the first four bytes of the signature (big-endian).</summary>
    public uint KeyId { get; }

    /// <summary>base64(key ID ‖ signature) exactly as it appears on the signature line.</summary>
    public string Base64 { get; }

    /// <summary>The key as <c>name+hex(id)</c>, the way errors and logs name it.</summary>
    public string Key => $"{KeyName}+{NoteFormat.FormatKeyId(KeyId)}";

    /// <summary>The signature line without its newline: <c>— name base64</c>.</summary>
    public override string ToString() => $"{NoteFormat.SignaturePrefix}{KeyName} {Base64}";

    /// <summary>The signature bytes after the key ID.</summary>
    internal byte[] SignatureBytes()
    {
        // Base64 was validated when the signature was parsed or created.
        NoteFormat.TryDecodeBase64(Base64, out var raw);
        return raw![4..];
    }
}
