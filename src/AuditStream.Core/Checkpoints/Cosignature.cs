using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace AuditStream.Checkpoints;

/// <summary>
/// The Ed25519 <c>cosignature/v1</c> format of c2sp.org/tlog-cosignature: a witness's timestamped statement that a
/// checkpoint is the largest consistent tree head it has seen for the log.
/// </summary>
public static class Cosignature
{
    /// <summary>The signature type byte that separates cosignature/v1 key IDs from plain note keys (0x04).</summary>
    public const byte Ed25519Type = 0x04;

    /// <summary>Key ID = SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4] (tlog-cosignature §Format).</summary>
    public static uint ComputeKeyId(string cosignerName, ReadOnlySpan<byte> publicKey) =>
        NoteFormat.ComputeKeyId(cosignerName, Ed25519Type, publicKey);

    /// <summary>The signed message: <c>cosignature/v1\ntime T\n</c> then the checkpoint's note text (tlog-cosignature §Ed25519 signed message).</summary>
    public static byte[] Message(string checkpointText, ulong timestamp) =>
        Encoding.UTF8.GetBytes($"cosignature/v1\ntime {timestamp.ToString(CultureInfo.InvariantCulture)}\n{checkpointText}");

    /// <summary>
    /// Cosigns <paramref name="checkpointText"/> (the note text, final newline included) with <paramref name="signer"/>'s
    /// Ed25519 key at <paramref name="timestamp"/> (POSIX seconds, not zero) and returns the signature line.
    /// </summary>
    public static NoteSignature Sign(NoteSigner signer, string checkpointText, ulong timestamp)
    {
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(checkpointText);
        ArgumentOutOfRangeException.ThrowIfZero(timestamp);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(timestamp, (ulong)long.MaxValue);
        var keyId = ComputeKeyId(signer.Name, signer.PublicKeyBytes());
        Span<byte> line = stackalloc byte[4 + 8 + NoteFormat.Ed25519SignatureSize];
        BinaryPrimitives.WriteUInt32BigEndian(line, keyId);
        BinaryPrimitives.WriteUInt64BigEndian(line[4..], timestamp);
        signer.SignMessage(Message(checkpointText, timestamp), line[12..]);
        return new NoteSignature(signer.Name, keyId, Convert.ToBase64String(line));
    }

    /// <summary>The cosigner verifier key <c>name+hex(id)+base64(0x04 ‖ public key)</c> of <paramref name="signer"/>'s key.</summary>
    public static string VerifierKey(NoteSigner signer)
    {
        ArgumentNullException.ThrowIfNull(signer);
        var publicKey = signer.PublicKeyBytes();
        var typed = new byte[1 + publicKey.Length];
        typed[0] = Ed25519Type;
        publicKey.CopyTo(typed, 1);
        return $"{signer.Name}+{NoteFormat.FormatKeyId(ComputeKeyId(signer.Name, publicKey))}+{Convert.ToBase64String(typed)}";
    }
}
