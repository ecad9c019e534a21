using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Unicode;

namespace AuditStream.Canonical;

/// <summary>RFC 8785 JSON Canonicalization Scheme (JCS): the byte form of JSON that event hashes are computed over.</summary>
public static class JsonCanonicalizer
{
    // RFC 8785 §3.2.2.2: only these are escaped; everything else is written as raw UTF-8.
    private static readonly SearchValues<char> s_charsToEscape = SearchValues.Create(
        "\"\\\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000a\u000b\u000c\u000d\u000e\u000f"
        + "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f");

    private static ReadOnlySpan<byte> HexDigits => "0123456789abcdef"u8;

    /// <summary>Writes the canonical form of <paramref name="element"/>.</summary>
    /// <exception cref="JsonCanonicalizationException">The value has duplicate member names, ill-formed strings or a number outside the double range.</exception>
    public static void WriteCanonical(JsonElement element, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(element, output);
                break;
            case JsonValueKind.Array:
                WriteArray(element, output);
                break;
            case JsonValueKind.String:
                WriteStringElement(element, output);
                break;
            case JsonValueKind.Number:
                WriteNumber(element, output);
                break;
            case JsonValueKind.True:
                output.Write("true"u8);
                break;
            case JsonValueKind.False:
                output.Write("false"u8);
                break;
            case JsonValueKind.Null:
                output.Write("null"u8);
                break;
            default:
                throw new ArgumentException("An undefined JsonElement (default(JsonElement)) has no JSON form.", nameof(element));
        }
    }

    /// <summary>Writes <paramref name="value"/> as a canonical JSON string (quotes included).</summary>
    /// <exception cref="JsonCanonicalizationException"><paramref name="value"/> contains a lone surrogate.</exception>
    public static void WriteString(ReadOnlySpan<char> value, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        WriteByte(output, (byte)'"');
        while (!value.IsEmpty)
        {
            var plain = value.IndexOfAny(s_charsToEscape);
            var run = plain < 0 ? value : value[..plain];
            WriteUtf8(run, output);
            if (plain < 0)
            {
                break;
            }

            WriteEscaped(value[plain], output);
            value = value[(plain + 1)..];
        }

        WriteByte(output, (byte)'"');
    }

    /// <summary>Returns the canonical form of the UTF-8 JSON text <paramref name="utf8Json"/>.</summary>
    /// <exception cref="JsonException"><paramref name="utf8Json"/> is not one JSON value.</exception>
    /// <exception cref="JsonCanonicalizationException">The value has no canonical form.</exception>
    public static byte[] Canonicalize(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        using var document = JsonDocument.ParseValue(ref reader);
        if (reader.Read())
        {
            throw new JsonException($"Unexpected JSON after the value at byte {reader.TokenStartIndex}.");
        }

        using var output = new PooledByteBufferWriter(Math.Max(utf8Json.Length, 16));
        WriteCanonical(document.RootElement, output);
        return output.WrittenSpan.ToArray();
    }

    private static void WriteObject(JsonElement element, IBufferWriter<byte> output)
    {
        if (IsInCanonicalOrder(element))
        {
            WriteObjectInOrder(element, output);
            return;
        }

        var count = element.GetPropertyCount();
        var members = ArrayPool<Member>.Shared.Rent(Math.Max(count, 1));
        try
        {
            var n = 0;
            foreach (var property in element.EnumerateObject())
            {
                members[n++] = new Member(GetName(property), property.Value);
            }

            // RFC 8785 §3.2.3: members sorted by the UTF-16 code units of their names, which is ordinal string order.
            Array.Sort(members, 0, n, MemberNameComparer.Instance);
            WriteByte(output, (byte)'{');
            for (var i = 0; i < n; i++)
            {
                if (i > 0)
                {
                    if (string.Equals(members[i].Name, members[i - 1].Name, StringComparison.Ordinal))
                    {
                        // RFC 8785 §3.1 requires I-JSON (RFC 7493 §2.3): member names are unique.
                        throw new JsonCanonicalizationException($"The JSON object has the member name \"{members[i].Name}\" more than once; member names must be unique (RFC 7493 §2.3).");
                    }

                    WriteByte(output, (byte)',');
                }

                WriteString(members[i].Name, output);
                WriteByte(output, (byte)':');
                WriteCanonical(members[i].Value, output);
            }

            WriteByte(output, (byte)'}');
        }
        finally
        {
            ArrayPool<Member>.Shared.Return(members, clearArray: true);
        }
    }

    // True when every member name is plain ASCII (no escape) and the names strictly increase: for ASCII, byte order is
    // UTF-16 code unit order, so the document order is already RFC 8785's and the names are unique (no strings, no sort).
    private static bool IsInCanonicalOrder(JsonElement element)
    {
        ReadOnlySpan<byte> previous = default;
        var first = true;
        foreach (var property in element.EnumerateObject())
        {
            var name = JsonMarshal.GetRawUtf8PropertyName(property);
            if (!System.Text.Ascii.IsValid(name) || name.Contains((byte)'\\') || (!first && previous.SequenceCompareTo(name) >= 0))
            {
                return false;
            }

            previous = name;
            first = false;
        }

        return true;
    }

    private static void WriteObjectInOrder(JsonElement element, IBufferWriter<byte> output)
    {
        WriteByte(output, (byte)'{');
        var first = true;
        foreach (var property in element.EnumerateObject())
        {
            if (!first)
            {
                WriteByte(output, (byte)',');
            }

            first = false;
            WriteByte(output, (byte)'"');
            output.Write(JsonMarshal.GetRawUtf8PropertyName(property));
            output.Write("\":"u8);
            WriteCanonical(property.Value, output);
        }

        WriteByte(output, (byte)'}');
    }

    private static void WriteArray(JsonElement element, IBufferWriter<byte> output)
    {
        WriteByte(output, (byte)'[');
        var first = true;
        foreach (var item in element.EnumerateArray())
        {
            if (!first)
            {
                WriteByte(output, (byte)',');
            }

            first = false;
            WriteCanonical(item, output);
        }

        WriteByte(output, (byte)']');
    }

    private static void WriteStringElement(JsonElement element, IBufferWriter<byte> output)
    {
        // The raw token, quotes included. Without escapes and as well-formed UTF-8 it is already canonical:
        // JSON text cannot hold a raw quote or control character inside a string.
        var raw = JsonMarshal.GetRawUtf8Value(element);
        if (!raw.Contains((byte)'\\') && Utf8.IsValid(raw))
        {
            output.Write(raw);
            return;
        }

        string value;
        try
        {
            value = element.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            throw IllFormedString(e);
        }

        WriteString(value, output);
    }

    private static string GetName(JsonProperty property)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException e)
        {
            throw IllFormedString(e);
        }
    }

    private static JsonCanonicalizationException IllFormedString(InvalidOperationException e)
        => new("A JSON string is not well-formed Unicode (a lone surrogate escape or invalid UTF-8); RFC 8785 §3.2.2.2 cannot represent it.", e);

    private static void WriteNumber(JsonElement element, IBufferWriter<byte> output)
    {
        if (!element.TryGetDouble(out var value) || !double.IsFinite(value))
        {
            throw new JsonCanonicalizationException($"The JSON number {element.GetRawText()} is outside the IEEE-754 double range (RFC 7493 §2.2, RFC 8785 §3.2.2.3).");
        }

        var span = output.GetSpan(EcmaScriptNumber.MaxLength);
        var length = EcmaScriptNumber.Format(value, span);
        output.Advance(length);
    }

    private static void WriteUtf8(ReadOnlySpan<char> run, IBufferWriter<byte> output)
    {
        while (!run.IsEmpty)
        {
            // Each UTF-16 code unit needs at most 3 UTF-8 bytes; ask for a bounded chunk and loop.
            var destination = output.GetSpan(Math.Min(run.Length, 4096) * 3);
            var status = Utf8.FromUtf16(run, destination, out var read, out var written, replaceInvalidSequences: false, isFinalBlock: true);
            output.Advance(written);
            run = run[read..];
            if (status == OperationStatus.InvalidData)
            {
                throw new JsonCanonicalizationException(
                    $"The string has a lone surrogate U+{(int)run[0]:X4}; RFC 8785 §3.2.2.2 requires well-formed Unicode (RFC 7493 §2.1).");
            }
        }
    }

    private static void WriteEscaped(char c, IBufferWriter<byte> output)
    {
        // RFC 8785 §3.2.2.2: the two-character short forms where JSON has one, else \u00xx with lowercase hex.
        ReadOnlySpan<byte> shortForm = c switch
        {
            '"' => "\\\""u8,
            '\\' => "\\\\"u8,
            '\b' => "\\b"u8,
            '\t' => "\\t"u8,
            '\n' => "\\n"u8,
            '\f' => "\\f"u8,
            '\r' => "\\r"u8,
            _ => default,
        };
        if (!shortForm.IsEmpty)
        {
            output.Write(shortForm);
            return;
        }

        var span = output.GetSpan(6);
        "\\u00"u8.CopyTo(span);
        span[4] = HexDigits[c >> 4];
        span[5] = HexDigits[c & 0xF];
        output.Advance(6);
    }

    private static void WriteByte(IBufferWriter<byte> output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }

    private readonly record struct Member(string Name, JsonElement Value);

    private sealed class MemberNameComparer : IComparer<Member>
    {
        public static readonly MemberNameComparer Instance = new();

        public int Compare(Member x, Member y) => string.CompareOrdinal(x.Name, y.Name);
    }
}
