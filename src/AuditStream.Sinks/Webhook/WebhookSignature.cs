using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace AuditStream.Sinks.Webhook;

/// <summary>
/// Standard Webhooks signatures: <c>webhook-signature: v1,base64(HMAC-SHA256(secret, id + "." + timestamp + "." + body))</c>,
/// one per secret, space-separated; <c>webhook-timestamp</c> in Unix seconds bounds replays.
/// </summary>
public static class WebhookSignature
{
    /// <summary>Header with the delivery id (the same on every retry of a batch).</summary>
    public const string IdHeader = "webhook-id";

    /// <summary>Header with the Unix time of the attempt.</summary>
    public const string TimestampHeader = "webhook-timestamp";

    /// <summary>Header with the signatures.</summary>
    public const string SignatureHeader = "webhook-signature";

    private const string SecretPrefix = "whsec_";

    /// <summary>The signature header value for <paramref name="body"/>, one <c>v1,…</c> entry per secret.</summary>
    public static string Sign(IEnumerable<string> secrets, string id, long timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        var content = Content(id, timestamp, body);
        return string.Join(' ', secrets.Select(secret => "v1," + Convert.ToBase64String(HMACSHA256.HashData(Key(secret), content))));
    }

    /// <summary>
    /// What a receiver checks: the timestamp is within <paramref name="tolerance"/> of <paramref name="now"/> and one of the
    /// signatures matches one of <paramref name="secrets"/>.
    /// </summary>
    public static bool Verify(IEnumerable<string> secrets, string id, string timestamp, string signatureHeader, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan tolerance)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        ArgumentNullException.ThrowIfNull(signatureHeader);
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || (now - DateTimeOffset.FromUnixTimeSeconds(seconds)).Duration() > tolerance)
        {
            return false;
        }

        var content = Content(id, seconds, body);
        Span<byte> decoded = stackalloc byte[64];
        var offered = signatureHeader.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Where(static s => s.StartsWith("v1,", StringComparison.Ordinal))
            .Select(static s => s[3..])
            .ToList();
        foreach (var secret in secrets)
        {
            var expected = HMACSHA256.HashData(Key(secret), content);
            foreach (var signature in offered)
            {
                if (Convert.TryFromBase64String(signature, decoded, out var written)
                    && CryptographicOperations.FixedTimeEquals(decoded[..written], expected))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static byte[] Key(string secret) =>
        secret.StartsWith(SecretPrefix, StringComparison.Ordinal)
            ? Convert.FromBase64String(secret[SecretPrefix.Length..])
            : Encoding.UTF8.GetBytes(secret);

    private static byte[] Content(string id, long timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{id}.{timestamp}."));
        var content = new byte[prefix.Length + body.Length];
        prefix.CopyTo(content, 0);
        body.CopyTo(content.AsSpan(prefix.Length));
        return content;
    }
}
