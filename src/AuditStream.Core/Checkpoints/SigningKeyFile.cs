using System.Text;

namespace AuditStream.Checkpoints;

/// <summary>
/// The log's checkpoint signing key on disk: one <c>PRIVATE+KEY+…</c> line, created on first start with owner-only
/// permissions and never replaced afterwards, because a new key would orphan every checkpoint already published.
/// </summary>
public static class SigningKeyFile
{
    /// <summary>Owner read and write only (0600): the file holds the private key.</summary>
    public const UnixFileMode Permissions = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Loads the signer key stored at <paramref name="path"/>, or, when no file exists, generates a key named
    /// <paramref name="keyName"/> and writes it there atomically (temporary file with mode 0600, then a rename that
    /// fails rather than replace a file). When another process creates the file first, its key is loaded instead.
    /// </summary>
    /// <exception cref="InvalidDataException">The file exists but does not hold a valid signer key, or holds one with another name.</exception>
    public static NoteSigner LoadOrCreate(string path, string keyName)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(keyName);
        path = Path.GetFullPath(path);
        if (File.Exists(path))
        {
            return Load(path, keyName);
        }

        var directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);

        var signer = NoteSigner.Generate(keyName);
        var temporaryPath = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            WriteNew(temporaryPath, signer.ExportSignerKey() + "\n");
            try
            {
                // Never overwrites: on Unix this is link(2) + unlink(2), which fails with EEXIST if the file appeared meanwhile.
                File.Move(temporaryPath, path, overwrite: false);
                return signer;
            }
            catch (IOException) when (File.Exists(path))
            {
                // Lost a race with another process starting on the same key file: use the key it wrote.
                signer.Dispose();
                return Load(path, keyName);
            }
        }
        catch
        {
            signer.Dispose();
            throw;
        }
        finally
        {
            File.Delete(temporaryPath);
        }
    }

    private static void WriteNew(string path, string contents)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
        };
        if (!OperatingSystem.IsWindows())
        {
            // Created owner-only, so the key is never readable by others, not even for an instant.
            options.UnixCreateMode = Permissions;
        }

        using (var stream = new FileStream(path, options))
        {
            stream.Write(Encoding.UTF8.GetBytes(contents));
            stream.Flush(flushToDisk: true);
        }

        if (!OperatingSystem.IsWindows())
        {
            // The umask can only remove bits; set the mode explicitly so it is exactly 0600.
            File.SetUnixFileMode(path, Permissions);
        }
    }

    private static NoteSigner Load(string path, string keyName)
    {
        var contents = File.ReadAllText(path).Trim();
        NoteSigner signer;
        try
        {
            signer = NoteSigner.FromSignerKey(contents);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException(
                $"The signing key file '{path}' does not hold a valid signer key ({e.Message}). Restore it from backup; deleting it makes a new key that cannot vouch for checkpoints already published.",
                e);
        }

        if (!string.Equals(signer.Name, keyName, StringComparison.Ordinal))
        {
            var name = signer.Name;
            signer.Dispose();
            throw new InvalidDataException(
                $"The signing key file '{path}' holds a key named '{name}', but the configured key name (the log origin) is '{keyName}'. Configure the origin '{name}' or point to the key file for '{keyName}'.");
        }

        return signer;
    }
}
