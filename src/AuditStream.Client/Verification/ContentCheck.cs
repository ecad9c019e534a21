using System.Security.Cryptography;
using System.Text.Json;
using AuditStream.Canonical;

namespace AuditStream.Client.Verification;

/// <summary>Recomputes an event's <c>hash</c> from what was shown: SHA-256(prev_hash ‖ RFC 8785 form of the event without <c>hash</c>) (DESIGN.md §3).</summary>
internal static class ContentCheck
{
    /// <summary>Why a masked event's content cannot be checked (not a failure: its stored hash still can be).</summary>
    public const string Masked = "pii is not shown to this role, so the content cannot be hashed; only the stored hash's inclusion was checked";

    /// <summary>Null when the event's content hashes to its <c>hash</c>; otherwise why not.</summary>
    public static string? Verify(JsonElement e)
    {
        var hasEnvelope = e.TryGetProperty("pii_envelope", out var envelope);
        if (!hasEnvelope && e.TryGetProperty("pii", out var pii) && pii.ValueKind == JsonValueKind.String && pii.GetString() is "[masked]" or "[erased]")
        {
            return Masked;
        }

        if (!e.TryGetProperty("hash", out var hash) || !e.TryGetProperty("prev_hash", out var prev)
            || hash.GetString() is not { Length: 64 } hashHex || prev.GetString() is not { Length: 64 } prevHex)
        {
            return "the event has no hash or prev_hash to check";
        }

        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            foreach (var member in e.EnumerateObject())
            {
                // pii is hashed in its stored form, the envelope served beside what this reader may see.
                if (hasEnvelope && member.Name == "pii")
                {
                    writer.WritePropertyName("pii");
                    envelope.WriteTo(writer);
                }
                else if (member.Name is not ("hash" or "pii_envelope"))
                {
                    member.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
        }

        var body = JsonCanonicalizer.Canonicalize(stream.ToArray());
        var computed = SHA256.HashData([.. Convert.FromHexString(prevHex), .. body]);
        return string.Equals(Convert.ToHexStringLower(computed), hashHex, StringComparison.OrdinalIgnoreCase)
            ? null
            : $"the event's content does not hash to its hash {hashHex}: it was altered after it was committed, or in transit";
    }
}
