using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace AuditStream.Privacy;

/// <summary>
/// A subject's data key (random, 256 bits), identified by <see cref="Id"/>, with the two keys derived from it by HKDF-SHA256
/// (RFC 5869): one encrypts <c>pii</c> with AES-256-GCM, the other derives each message's IV (see <see cref="PiiEnvelope"/>).
/// </summary>
public sealed class DataKey
{
    /// <summary>Length of a data key in bytes.</summary>
    public const int KeyLength = 32;

    private static readonly byte[] s_encryptionInfo = Encoding.ASCII.GetBytes("auditstream pii A256GCM key v1");
    private static readonly byte[] s_ivInfo = Encoding.ASCII.GetBytes("auditstream pii synthetic iv v1");

    /// <summary>Creates a data key from its stored (unwrapped) bytes.</summary>
    public DataKey(string id, string tenantId, string subjectId, ReadOnlySpan<byte> key)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(tenantId);
        ArgumentException.ThrowIfNullOrEmpty(subjectId);
        if (key.Length != KeyLength)
        {
            throw new ArgumentException($"A data key is {KeyLength} bytes (was {key.Length}).", nameof(key));
        }

        Id = id;
        TenantId = tenantId;
        SubjectId = subjectId;
        EncryptionKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, key.ToArray(), KeyLength, salt: null, info: s_encryptionInfo);
        IvKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, key.ToArray(), KeyLength, salt: null, info: s_ivInfo);
    }

    /// <summary>The key id written as <c>kid</c> in every envelope sealed with it.</summary>
    public string Id { get; }

    /// <summary>The tenant of the subject.</summary>
    public string TenantId { get; }

    /// <summary>The data subject whose <c>pii</c> this key encrypts.</summary>
    public string SubjectId { get; }

    internal byte[] EncryptionKey { get; }

    internal byte[] IvKey { get; }

    /// <summary>A new random data key id: <c>dk_</c> and 128 random bits, base64url.</summary>
    public static string NewId() => "dk_" + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
}
