using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using AuditStream.Canonical;
using CsCheck;

namespace AuditStream.Core.Tests.Canonical;

public sealed class JsonCanonicalizerTests
{
    [Fact]
    public void Rfc8785_section_3_2_2_example_is_canonicalized_byte_for_byte()
    {
        // RFC 8785 §3.2.2 (input) and §3.2.3 (output).
        var input = """
            {
              "numbers": [333333333.33333329, 1E30, 4.50,
                          2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """;
        var expected = "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
            + "\"string\":\"\u20ac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";

        Assert.Equal(expected, Encoding.UTF8.GetString(JsonCanonicalizer.Canonicalize(CanonicalGen.Utf8(input))));
    }

    [Fact]
    public void Rfc8785_section_3_2_3_sorts_members_by_utf16_code_units_not_code_points()
    {
        var input = """
            {
              "\u20ac": "Euro Sign",
              "\r": "Carriage Return",
              "\ufb33": "Hebrew Letter Dalet With Dagesh",
              "1": "One",
              "\ud83d\ude00": "Emoji: Grinning Face",
              "\u0080": "Control",
              "\u00f6": "Latin Small Letter O With Diaeresis"
            }
            """;

        // RFC 8785 §3.2.3: "\r", "1", "\u0080", "\u00f6", "\u20ac", "\ud83d\ude00", "\ufb33" — the emoji's high
        // surrogate (D83D) sorts before FB33 although its code point (1F600) is larger.
        var expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\","
            + "\"\u00f6\":\"Latin Small Letter O With Diaeresis\",\"\u20ac\":\"Euro Sign\","
            + "\"\ud83d\ude00\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}";

        Assert.Equal(Encoding.UTF8.GetBytes(expected), JsonCanonicalizer.Canonicalize(CanonicalGen.Utf8(input)));
    }

    // Vectors from the RFC authors' test suite, github.com/cyberphone/json-canonicalization testdata/input and outhex.
    [Theory]
    [InlineData("[\n  56,\n  {\n    \"d\": true,\n    \"10\": null,\n    \"1\": [ ]\n  }\n]",
        "5b 35 36 2c 7b 22 31 22 3a 5b 5d 2c 22 31 30 22 3a 6e 75 6c 6c 2c 22 64 22 3a 74 72 75 65 7d 5d")]
    [InlineData("{\n  \"peach\": \"This sorting order\",\n  \"p\u00e9ch\u00e9\": \"is wrong according to French\",\n  \"p\u00eache\": \"but canonicalization MUST\",\n  \"sin\":   \"ignore locale\"\n}",
        "7b 22 70 65 61 63 68 22 3a 22 54 68 69 73 20 73 6f 72 74 69 6e 67 20 6f 72 64 65 72 22 2c 22 70 "
        + "c3 a9 63 68 c3 a9 22 3a 22 69 73 20 77 72 6f 6e 67 20 61 63 63 6f 72 64 69 6e 67 20 74 6f 20 46 "
        + "72 65 6e 63 68 22 2c 22 70 c3 aa 63 68 65 22 3a 22 62 75 74 20 63 61 6e 6f 6e 69 63 61 6c 69 7a "
        + "61 74 69 6f 6e 20 4d 55 53 54 22 2c 22 73 69 6e 22 3a 22 69 67 6e 6f 72 65 20 6c 6f 63 61 6c 65 "
        + "22 7d")]
    [InlineData("{\n  \"1\": {\"f\": {\"f\": \"hi\",\"F\": 5} ,\"\\n\": 56.0},\n  \"10\": { },\n  \"\": \"empty\",\n  \"a\": { },\n  \"111\": [ {\"e\": \"yes\",\"E\": \"no\" } ],\n  \"A\": { }\n}",
        "7b 22 22 3a 22 65 6d 70 74 79 22 2c 22 31 22 3a 7b 22 5c 6e 22 3a 35 36 2c 22 66 22 3a 7b 22 46 "
        + "22 3a 35 2c 22 66 22 3a 22 68 69 22 7d 7d 2c 22 31 30 22 3a 7b 7d 2c 22 31 31 31 22 3a 5b 7b 22 "
        + "45 22 3a 22 6e 6f 22 2c 22 65 22 3a 22 79 65 73 22 7d 5d 2c 22 41 22 3a 7b 7d 2c 22 61 22 3a 7b "
        + "7d 7d")]
    [InlineData("{\n  \"Unnormalized Unicode\":\"A\\u030a\"\n}",
        "7b 22 55 6e 6e 6f 72 6d 61 6c 69 7a 65 64 20 55 6e 69 63 6f 64 65 22 3a 22 41 cc 8a 22 7d")]
    [InlineData("{\n  \"\\u20ac\": \"Euro Sign\",\n  \"\\r\": \"Carriage Return\",\n  \"\\u000a\": \"Newline\",\n  \"1\": \"One\",\n  \"\\u0080\": \"Control\\u007f\",\n  \"\\ud83d\\ude02\": \"Smiley\",\n  \"\\u00f6\": \"Latin Small Letter O With Diaeresis\",\n  \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\",\n  \"</script>\": \"Browser Challenge\"\n}",
        "7b 22 5c 6e 22 3a 22 4e 65 77 6c 69 6e 65 22 2c 22 5c 72 22 3a 22 43 61 72 72 69 61 67 65 20 52 "
        + "65 74 75 72 6e 22 2c 22 31 22 3a 22 4f 6e 65 22 2c 22 3c 2f 73 63 72 69 70 74 3e 22 3a 22 42 72 "
        + "6f 77 73 65 72 20 43 68 61 6c 6c 65 6e 67 65 22 2c 22 c2 80 22 3a 22 43 6f 6e 74 72 6f 6c 7f 22 "
        + "2c 22 c3 b6 22 3a 22 4c 61 74 69 6e 20 53 6d 61 6c 6c 20 4c 65 74 74 65 72 20 4f 20 57 69 74 68 "
        + "20 44 69 61 65 72 65 73 69 73 22 2c 22 e2 82 ac 22 3a 22 45 75 72 6f 20 53 69 67 6e 22 2c 22 f0 "
        + "9f 98 82 22 3a 22 53 6d 69 6c 65 79 22 2c 22 ef ac b3 22 3a 22 48 65 62 72 65 77 20 4c 65 74 74 "
        + "65 72 20 44 61 6c 65 74 20 57 69 74 68 20 44 61 67 65 73 68 22 7d")]
    public void Published_jcs_test_vectors_are_canonicalized_byte_for_byte(string input, string expectedHex)
    {
        var expected = Convert.FromHexString(expectedHex.Replace(" ", "", StringComparison.Ordinal));

        Assert.Equal(expected, JsonCanonicalizer.Canonicalize(CanonicalGen.Utf8(input)));
    }

    // RFC 8785 Appendix B: IEEE-754 bit patterns and their ECMAScript serialization.
    [Theory]
    [InlineData(0x0000000000000000UL, "0")]
    [InlineData(0x8000000000000000UL, "0")]
    [InlineData(0x0000000000000001UL, "5e-324")]
    [InlineData(0x8000000000000001UL, "-5e-324")]
    [InlineData(0x7fefffffffffffffUL, "1.7976931348623157e+308")]
    [InlineData(0xffefffffffffffffUL, "-1.7976931348623157e+308")]
    [InlineData(0x4340000000000000UL, "9007199254740992")]
    [InlineData(0xc340000000000000UL, "-9007199254740992")]
    [InlineData(0x4430000000000000UL, "295147905179352830000")]
    [InlineData(0x44b52d02c7e14af5UL, "9.999999999999997e+22")]
    [InlineData(0x44b52d02c7e14af6UL, "1e+23")]
    [InlineData(0x44b52d02c7e14af7UL, "1.0000000000000001e+23")]
    [InlineData(0x444b1ae4d6e2ef4eUL, "999999999999999700000")]
    [InlineData(0x444b1ae4d6e2ef4fUL, "999999999999999900000")]
    [InlineData(0x444b1ae4d6e2ef50UL, "1e+21")]
    [InlineData(0x3eb0c6f7a0b5ed8cUL, "9.999999999999997e-7")]
    [InlineData(0x3eb0c6f7a0b5ed8dUL, "0.000001")]
    [InlineData(0x41b3de4355555553UL, "333333333.3333332")]
    [InlineData(0x41b3de4355555554UL, "333333333.33333325")]
    [InlineData(0x41b3de4355555555UL, "333333333.3333333")]
    [InlineData(0x41b3de4355555556UL, "333333333.3333334")]
    [InlineData(0x41b3de4355555557UL, "333333333.33333343")]
    [InlineData(0xbecbf647612f3696UL, "-0.0000033333333333333333")]
    [InlineData(0x43143ff3c1cb0959UL, "1424953923781206.2")]
    public void Rfc8785_appendix_b_numbers_serialize_as_ecmascript_does(ulong bits, string expected)
    {
        var value = BitConverter.UInt64BitsToDouble(bits);
        Span<byte> buffer = stackalloc byte[EcmaScriptNumber.MaxLength];
        var length = EcmaScriptNumber.Format(value, buffer);
        Assert.Equal(expected, Encoding.ASCII.GetString(buffer[..length]));

        // The same through the JSON path, from .NET's (differently laid out) round-trip text.
        var json = "[" + value.ToString("R", CultureInfo.InvariantCulture) + "]";
        Assert.Equal("[" + expected + "]", Encoding.UTF8.GetString(JsonCanonicalizer.Canonicalize(CanonicalGen.Utf8(json))));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void NaN_and_infinities_are_rejected(double value)
    {
        var buffer = new byte[EcmaScriptNumber.MaxLength];

        Assert.Throws<JsonCanonicalizationException>(() => EcmaScriptNumber.Format(value, buffer));
    }

    [Theory]
    [InlineData("1e400")]
    [InlineData("-1e400")]
    [InlineData("{\"a\":[1,2,1E309]}")]
    public void Numbers_beyond_the_double_range_are_rejected(string json)
    {
        Assert.Throws<JsonCanonicalizationException>(() => JsonCanonicalizer.Canonicalize(CanonicalGen.Utf8(json)));
    }

    [Theory]
    [InlineData("{\"a\":1,\"b\":{\"d\":2,\"c\":3}}", "{\"a\":1,\"b\":{\"c\":3,\"d\":2}}")]
    [InlineData("{\"b\":1,\"a\":2}", "{\"a\":2,\"b\":1}")]
    [InlineData("{\"B\":1,\"a\":2,\"aa\":3}", "{\"B\":1,\"a\":2,\"aa\":3}")]
    [InlineData("{\"\\u0062\":1,\"a\":2}", "{\"a\":2,\"b\":1}")]
    [InlineData("{\"\uE000\":1,\"\uD83D\uDE00\":2}", "{\"\uD83D\uDE00\":2,\"\uE000\":1}")]
    [InlineData("{}", "{}")]
    public void Members_already_in_order_and_out_of_order_canonicalize_alike(string json, string expected)
    {
        // Names that are plain ASCII in increasing order are written as they stand; escaped or non-ASCII names (whose UTF-8
        // order is not UTF-16 order: U+E000 sorts after U+1F600's surrogates) take the sorting path.
        Assert.Equal(expected, Encoding.UTF8.GetString(JsonCanonicalizer.Canonicalize(CanonicalGen.Utf8(json))));
    }

    [Theory]
    [InlineData("{\"a\":1,\"a\":2}")]
    [InlineData("{\"a\":1,\"\\u0061\":2}")]
    [InlineData("[{\"x\":{\"b\":true,\"c\":null,\"b\":false}}]")]
    public void Duplicate_member_names_are_rejected_even_when_spelled_differently(string json)
    {
        var e = Assert.Throws<JsonCanonicalizationException>(() => JsonCanonicalizer.Canonicalize(CanonicalGen.Utf8(json)));
        Assert.Contains("more than once", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"\\ud800\"")]
    [InlineData("\"a\\udc00b\"")]
    [InlineData("{\"\\ud83d\":1}")]
    [InlineData("[\"\\ude00\\ud83d\"]")]
    public void Lone_surrogate_escapes_are_rejected(string json)
    {
        Assert.Throws<JsonCanonicalizationException>(() => JsonCanonicalizer.Canonicalize(CanonicalGen.Utf8(json)));
    }

    [Theory]
    [InlineData(new byte[] { 0x22, 0xff, 0x22 })]
    [InlineData(new byte[] { 0x22, 0xed, 0xa0, 0x80, 0x22 })] // an encoded surrogate (CESU-8), not UTF-8
    [InlineData(new byte[] { 0x7b, 0x22, 0xc3, 0x22, 0x3a, 0x31, 0x7d })]
    public void Invalid_utf8_inside_strings_is_rejected(byte[] json)
    {
        Assert.Throws<JsonCanonicalizationException>(() => JsonCanonicalizer.Canonicalize(json));
    }

    [Fact]
    public void WriteString_rejects_lone_surrogates()
    {
        // Built here: attribute arguments and serialized theory data are UTF-8, which turns a lone surrogate into U+FFFD.
        string[] values = [new string('\ud800', 1), "ok" + '\udfff' + "ok", string.Concat('\ude00', '\ud83d'), "end" + '\ud83d'];
        foreach (var value in values)
        {
            Assert.Throws<JsonCanonicalizationException>(() => JsonCanonicalizer.WriteString(value, new ArrayBufferWriter<byte>()));
        }
    }

    [Fact]
    public void WriteString_escapes_only_quote_backslash_and_control_characters()
    {
        var output = new ArrayBufferWriter<byte>();
        JsonCanonicalizer.WriteString("\"\\/\b\f\n\r\t\u0000\u001f\u007f\u2028<>&'\ud83d\ude00", output);

        var expected = "\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0000\\u001f\u007f\u2028<>&'\ud83d\ude00\"";
        Assert.Equal(Encoding.UTF8.GetBytes(expected), output.WrittenSpan.ToArray());
    }

    [Fact]
    public void WriteString_handles_strings_longer_than_one_output_chunk()
    {
        var value = new string('\u00e9', 10_000) + "\n" + new string('x', 5000);
        var output = new ArrayBufferWriter<byte>();
        JsonCanonicalizer.WriteString(value, output);

        Assert.Equal(Encoding.UTF8.GetBytes("\"" + value.Replace("\n", "\\n", StringComparison.Ordinal) + "\""), output.WrittenSpan.ToArray());
    }

    [Theory]
    [InlineData("{} {}")]
    [InlineData("[1,]")]
    [InlineData("/* c */ 1")]
    [InlineData("")]
    public void Text_that_is_not_exactly_one_json_value_is_rejected(string json)
    {
        Assert.ThrowsAny<JsonException>(() => JsonCanonicalizer.Canonicalize(CanonicalGen.Utf8(json)));
    }

    [Fact]
    public void Whitespace_around_the_value_is_dropped()
    {
        Assert.Equal("{\"a\":[1,2]}"u8.ToArray(), JsonCanonicalizer.Canonicalize(" \n{ \"a\" : [ 1 , 2.0 ] }\t "u8));
    }

    [Fact]
    public void Canonicalizing_is_idempotent_and_preserves_the_json_value()
    {
        CanonicalGen.Object.Sample(node =>
        {
            var text = CanonicalGen.Utf8(node.ToJsonString());
            var once = JsonCanonicalizer.Canonicalize(text);
            var twice = JsonCanonicalizer.Canonicalize(once);
            Assert.Equal(once, twice);

            using var original = JsonDocument.Parse(text);
            using var canonical = JsonDocument.Parse(once);
            Assert.True(JsonElement.DeepEquals(original.RootElement, canonical.RootElement));
        }, iter: 2000);
    }

    [Fact]
    public void Canonical_objects_have_members_in_ordinal_order_at_every_level()
    {
        CanonicalGen.Object.Sample(node =>
        {
            using var canonical = JsonDocument.Parse(JsonCanonicalizer.Canonicalize(CanonicalGen.Utf8(node.ToJsonString())));
            AssertSorted(canonical.RootElement);
        }, iter: 500);

        static void AssertSorted(JsonElement element)
        {
            if (element.ValueKind == JsonValueKind.Object)
            {
                var names = element.EnumerateObject().Select(p => p.Name).ToArray();
                Assert.Equal(names.Order(StringComparer.Ordinal), names);
                foreach (var property in element.EnumerateObject())
                {
                    AssertSorted(property.Value);
                }
            }
            else if (element.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in element.EnumerateArray())
                {
                    AssertSorted(item);
                }
            }
        }
    }

    [Fact]
    public void Numbers_use_the_shortest_digits_that_round_trip_and_the_closest_of_those()
    {
        Gen.ULong.Select(BitConverter.UInt64BitsToDouble).Where(double.IsFinite).Sample(value =>
        {
            Span<byte> buffer = stackalloc byte[EcmaScriptNumber.MaxLength];
            var text = Encoding.ASCII.GetString(buffer[..EcmaScriptNumber.Format(value, buffer)]);
            Assert.Equal(value == 0 ? 0 : value, double.Parse(text, CultureInfo.InvariantCulture));
            Assert.Equal(ShortestDigits(value), Digits(text));
        }, iter: 20_000);

        // Independent oracle (ECMA-262 §6.1.6.1.20 step 5): the fewest significant digits whose correctly rounded
        // value reads back as the same double; "E{p-1}" rounds to nearest, so it is the closest such candidate.
        static string ShortestDigits(double value)
        {
            for (var precision = 1; ; precision++)
            {
                var candidate = value.ToString("E" + (precision - 1), CultureInfo.InvariantCulture);
                if (double.Parse(candidate, CultureInfo.InvariantCulture) == value)
                {
                    return Digits(candidate);
                }
            }
        }

        static string Digits(string number)
        {
            var mantissa = number.Split('e', 'E')[0];
            return mantissa.Replace("-", "", StringComparison.Ordinal).Replace(".", "", StringComparison.Ordinal).Trim('0') is { Length: > 0 } d ? d : "0";
        }
    }
}
