using System.Buffers;
using System.Text.Json;

namespace AuditStream.Canonical;

/// <summary>RFC 8785 JSON Canonicalization Scheme (JCS).</summary>
public static class JsonCanonicalizer
{
    /// <summary>Writes the canonical form of <paramref name="element"/>.</summary>
    public static void WriteCanonical(JsonElement element, IBufferWriter<byte> output) => throw new NotImplementedException();

    /// <summary>Writes <paramref name="value"/> as a canonical JSON string (quotes included).</summary>
    public static void WriteString(ReadOnlySpan<char> value, IBufferWriter<byte> output) => throw new NotImplementedException();

    /// <summary>Returns the canonical form of the UTF-8 JSON text <paramref name="utf8Json"/>.</summary>
    public static byte[] Canonicalize(ReadOnlySpan<byte> utf8Json) => throw new NotImplementedException();
}
