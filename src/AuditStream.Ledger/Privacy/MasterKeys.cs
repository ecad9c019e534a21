using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using AuditStream.Canonical;
using AuditStream.Checkpoints;

namespace AuditStream.Ledger.Privacy;

/// <summary>
/// The master keys that wrap data keys (AES-256-GCM, random 96-bit nonce, the additional data binding a wrapped key to
/// its master key id, data key id, tenant and subject), by key id, one of them active.
/// </summary>
public sealed class MasterKeys
{
    private const int KeyLength = 32;
    private const int NonceLength = 12;
    private const int TagLength = 16;
    private readonly string? _filePath;
    private volatile Dictionary<string, byte[]> _keys;

    private MasterKeys(Dictionary<string, byte[]> keys, string activeId, string? filePath)
    {
        _keys = keys;
        ActiveId = activeId;
        _filePath = filePath;
    }

    /// <summary>The key id new data keys are wrapped with.</summary>
    public string ActiveId { get; }

    /// <summary>Every key id known.</summary>
    public IReadOnlyCollection<string> Ids => _keys.Keys;

    /// <summary>
    /// The master keys of <paramref name="options"/>: the configured ones, or else those of the key file at
    /// <paramref name="keyFilePath"/>, which is created with one random key when absent and <paramref name="create"/> is set.
    /// </summary>
    /// <exception cref="InvalidOperationException">A key is not base64 of 32 bytes, the active id is unknown, or there is no key.</exception>
    public static MasterKeys Load(PrivacyOptions options, string keyFilePath, bool create)
    {
        ArgumentNullException.ThrowIfNull(options);
        var keys = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        string? last = null;
        var fromFile = options.MasterKeys.Count == 0;
        if (!fromFile)
        {
            foreach (var (id, value) in options.MasterKeys)
            {
                keys[id] = Decode($"{LedgerOptions.SectionName}:Privacy:MasterKeys:{id}", value);
                last = id;
            }

            if (keys.Count > 1 && options.ActiveMasterKeyId is null)
            {
                throw new InvalidOperationException($"{LedgerOptions.SectionName}:Privacy:ActiveMasterKeyId is required when several master keys are configured.");
            }
        }
        else
        {
            if (!File.Exists(keyFilePath))
            {
                if (!create)
                {
                    throw new InvalidOperationException($"The master key file '{keyFilePath}' does not exist and no {LedgerOptions.SectionName}:Privacy:MasterKeys are configured.");
                }

                AppendNewKey(keyFilePath);
            }

            last = ReadFile(keyFilePath, keys);
        }

        var active = options.ActiveMasterKeyId ?? last
            ?? throw new InvalidOperationException($"No master key: configure {LedgerOptions.SectionName}:Privacy:MasterKeys or a key file.");
        if (!keys.ContainsKey(active))
        {
            throw new InvalidOperationException($"{LedgerOptions.SectionName}:Privacy:ActiveMasterKeyId '{active}' is not a known master key id ({string.Join(", ", keys.Keys)}).");
        }

        return new MasterKeys(keys, active, fromFile ? keyFilePath : null);
    }

    /// <summary>Reads every key of the file into <paramref name="keys"/>; returns the last key id.</summary>
    private static string? ReadFile(string keyFilePath, Dictionary<string, byte[]> keys)
    {
        string? last = null;
        foreach (var line in File.ReadAllLines(keyFilePath))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0)
            {
                continue;
            }

            if (parts.Length != 2)
            {
                throw new InvalidOperationException($"The master key file '{keyFilePath}' has a line that is not '<key id> <base64 key>'.");
            }

            keys[parts[0]] = Decode($"master key '{parts[0]}' of '{keyFilePath}'", parts[1]);
            last = parts[0];
        }

        return last;
    }

    /// <summary>Appends a new random master key to the key file (created 0600 when absent); returns its id, which becomes the active key.</summary>
    public static string AppendNewKey(string keyFilePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(keyFilePath);
        var id = "mk-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var line = Encoding.ASCII.GetBytes($"{id} {Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeyLength))}\n");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(keyFilePath))!);
        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = SigningKeyFile.Permissions;
        }

        using (var stream = new FileStream(keyFilePath, options))
        {
            stream.Write(line);
            stream.Flush(flushToDisk: true);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(keyFilePath, SigningKeyFile.Permissions);
        }

        return id;
    }

    /// <summary>Wraps <paramref name="dataKey"/> under the active master key: nonce ‖ ciphertext ‖ tag.</summary>
    public byte[] Wrap(ReadOnlySpan<byte> dataKey, string dataKeyId, string tenantId, string subjectId)
    {
        var wrapped = new byte[NonceLength + dataKey.Length + TagLength];
        RandomNumberGenerator.Fill(wrapped.AsSpan(0, NonceLength));
        using var gcm = new AesGcm(_keys[ActiveId], TagLength);
        gcm.Encrypt(wrapped.AsSpan(0, NonceLength), dataKey, wrapped.AsSpan(NonceLength, dataKey.Length), wrapped.AsSpan(NonceLength + dataKey.Length),
            AdditionalData(ActiveId, dataKeyId, tenantId, subjectId));
        return wrapped;
    }

    /// <summary>Unwraps a data key wrapped under <paramref name="masterKeyId"/>.</summary>
    /// <exception cref="InvalidOperationException">The master key is not configured (retired too early).</exception>
    /// <exception cref="CryptographicException">The wrapped key was altered or belongs to another row.</exception>
    public byte[] Unwrap(string masterKeyId, ReadOnlySpan<byte> wrapped, string dataKeyId, string tenantId, string subjectId)
    {
        if (!_keys.TryGetValue(masterKeyId, out var master) && _filePath is not null)
        {
            // `auditstream keys rotate` appended a key while this process ran: read the file again (new data keys stay
            // wrapped by the key this process started with until it restarts).
            var reloaded = new Dictionary<string, byte[]>(_keys, StringComparer.Ordinal);
            ReadFile(_filePath, reloaded);
            _keys = reloaded;
            reloaded.TryGetValue(masterKeyId, out master);
        }

        if (master is null)
        {
            throw new InvalidOperationException($"Data key '{dataKeyId}' is wrapped by master key '{masterKeyId}', which is not configured: restore it, or it was retired before 'auditstream keys rotate' re-wrapped its data keys.");
        }

        if (wrapped.Length != NonceLength + KeyLength + TagLength)
        {
            throw new CryptographicException($"Wrapped data key '{dataKeyId}' has the wrong length.");
        }

        var key = new byte[KeyLength];
        using var gcm = new AesGcm(master, TagLength);
        gcm.Decrypt(wrapped[..NonceLength], wrapped.Slice(NonceLength, KeyLength), wrapped[(NonceLength + KeyLength)..], key,
            AdditionalData(masterKeyId, dataKeyId, tenantId, subjectId));
        return key;
    }

    private static byte[] Decode(string what, string value)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(value.Trim());
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"{what} is not base64.");
        }

        return key.Length == KeyLength ? key : throw new InvalidOperationException($"{what} must be {KeyLength} bytes (was {key.Length}).");
    }

    private static byte[] AdditionalData(string masterKeyId, string dataKeyId, string tenantId, string subjectId)
    {
        var output = new ArrayBufferWriter<byte>(128);
        output.Write("[\"auditstream data key v1\","u8);
        foreach (var part in (ReadOnlySpan<string>)[masterKeyId, dataKeyId, tenantId])
        {
            JsonCanonicalizer.WriteString(part, output);
            output.Write(","u8);
        }

        JsonCanonicalizer.WriteString(subjectId, output);
        output.Write("]"u8);
        return output.WrittenSpan.ToArray();
    }
}
