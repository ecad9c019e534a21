using System.Security.Cryptography;

namespace AuditStream.Server.Auth;

/// <summary>The HS256 secret: from configuration, else from a file in the data directory, created on first use (mode 0600).</summary>
internal static class SigningSecret
{
    public static byte[] Load(AuthOptions options, string dataDirectory)
    {
        if (options.SigningKey is { } configured)
        {
            var bytes = Convert.FromBase64String(configured);
            if (bytes.Length < 32)
            {
                throw new InvalidOperationException($"{AuthOptions.SectionName}:SigningKey must be base64 of at least 32 bytes.");
            }

            return bytes;
        }

        var path = options.SigningKeyPath ?? Path.Combine(dataDirectory, "jwt-signing.key");
        if (File.Exists(path))
        {
            return Convert.FromBase64String(File.ReadAllText(path).Trim());
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var secret = RandomNumberGenerator.GetBytes(32);
        var temp = path + ".tmp";
        File.WriteAllText(temp, Convert.ToBase64String(secret) + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        try
        {
            // Never overwrite a secret another process created meanwhile: tokens signed with it must stay valid.
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temp);
            return Convert.FromBase64String(File.ReadAllText(path).Trim());
        }

        return secret;
    }
}
