using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AuditStream.Events;
using CsCheck;

namespace AuditStream.Core.Tests.Canonical;

/// <summary>CsCheck generators for JSON values and audit events that stress canonicalization.</summary>
internal static class CanonicalGen
{
    /// <summary>Any Unicode scalar value, weighted towards the characters RFC 8785 treats specially.</summary>
    public static readonly Gen<string> CodePoint = Gen.Frequency(
        (4, Gen.Int[0x20, 0x7E].Select(c => ((char)c).ToString())),
        (2, Gen.Char["\"\\/\b\f\n\r\t\u0000\u001f\u007f<>&'"].Select(c => c.ToString())),
        (1, Gen.Int[0x00, 0x1F].Select(c => ((char)c).ToString())),
        (2, Gen.Int[0x80, 0xD7FF].Select(char.ConvertFromUtf32)),
        (1, Gen.Int[0xE000, 0xFFFF].Select(char.ConvertFromUtf32)),
        (2, Gen.Int[0x10000, 0x10FFFF].Select(char.ConvertFromUtf32)));

    public static readonly Gen<string> Text = CodePoint.Array[0, 12].Select(parts => string.Concat(parts));

    /// <summary>Finite doubles over the whole bit space, plus integers and short decimals.</summary>
    public static readonly Gen<double> FiniteDouble = Gen.Frequency(
        (3, Gen.ULong.Select(BitConverter.UInt64BitsToDouble).Where(double.IsFinite)),
        (2, Gen.Int.Select(i => (double)i)),
        (1, Gen.Int[-100000, 100000].Select(i => i / 1000.0)),
        (1, Gen.OneOf(Gen.Const(0.0), Gen.Const(-0.0), Gen.Const(double.Epsilon), Gen.Const(double.MaxValue), Gen.Const(1e21), Gen.Const(1e-7))));

    public static readonly Gen<JsonNode?> Scalar = Gen.Frequency(
        (3, Text.Select(s => (JsonNode?)JsonValue.Create(s))),
        (3, FiniteDouble.Select(d => (JsonNode?)JsonValue.Create(d))),
        (1, Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b))),
        (1, Gen.Const<JsonNode?>(() => null)));

    /// <summary>A JSON object (never a scalar at the root), nested up to three levels.</summary>
    public static readonly Gen<JsonObject> Object = ObjectOfDepth(3);

    public static readonly Gen<JsonElement> ObjectElement = Object.Select(ToElement);

    public static readonly Gen<EventSource> Source = Gen.Select(
        Text.Null(0.3), Text.Null(0.3), Text.Null(0.3), Text.Null(0.3), Text.Null(0.3),
        (service, ip, userAgent, requestId, traceId) => new EventSource
        {
            Service = service,
            Ip = ip,
            UserAgent = userAgent,
            RequestId = requestId,
            TraceId = traceId,
        });

    /// <summary>Any instant and offset, at 100 ns precision.</summary>
    public static readonly Gen<DateTimeOffset> Instant = Gen.Select(
        Gen.Long[DateTimeOffset.MinValue.UtcTicks + TimeSpan.TicksPerDay, DateTimeOffset.MaxValue.UtcTicks - TimeSpan.TicksPerDay],
        Gen.Int[-14 * 60, 14 * 60],
        Gen.Int[0, 3],
        (ticks, offsetMinutes, precision) =>
        {
            // Bias towards whole seconds and milliseconds, where trailing-zero trimming matters.
            var rounded = precision switch
            {
                0 => ticks - (ticks % TimeSpan.TicksPerSecond),
                1 => ticks - (ticks % TimeSpan.TicksPerMillisecond),
                _ => ticks,
            };
            return new DateTimeOffset(rounded, TimeSpan.Zero).ToOffset(TimeSpan.FromMinutes(offsetMinutes));
        });

    public static readonly Gen<AuditEvent> Event = Gen.Select(
        Gen.Select(Gen.Guid, Text, Text, Text),
        Gen.Select(Text.Null(0.3), Text.Null(0.3), Text.Null(0.3), Text.Null(0.3)),
        Gen.Select(Text.Null(0.3), Text.Null(0.3), Instant.Nullable(0.3), Text.Null(0.3)),
        Gen.Select(Text.Null(0.3), ObjectElement.Nullable(0.4), Source.Null(0.3), ObjectElement.Nullable(0.3)),
        Text.List[0, 4].Null(0.3),
        (required, actorTarget, rest, extra, compliance) => new AuditEvent
        {
            Id = required.Item1,
            Type = required.Item2,
            Severity = required.Item3,
            Category = required.Item4,
            ActorId = actorTarget.Item1,
            ActorType = actorTarget.Item2,
            TargetId = actorTarget.Item3,
            TargetType = actorTarget.Item4,
            Action = rest.Item1,
            Outcome = rest.Item2,
            OccurredAt = rest.Item3,
            TenantId = rest.Item4,
            SubjectId = extra.Item1,
            Pii = extra.Item2,
            Source = extra.Item3,
            Metadata = extra.Item4,
            Compliance = compliance,
        });

    public static JsonElement ToElement(JsonNode? node)
    {
        using var document = JsonDocument.Parse(node?.ToJsonString() ?? "null");
        return document.RootElement.Clone();
    }

    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private static Gen<JsonObject> ObjectOfDepth(int depth)
    {
        var value = depth == 0 ? Scalar : Gen.Frequency(
            (6, Scalar),
            (1, ObjectOfDepth(depth - 1).Select(o => (JsonNode?)o)),
            (1, ArrayOfDepth(depth - 1).Select(a => (JsonNode?)a)));
        return Gen.Select(Text.Array[0, 5], value.Array[5], (keys, values) =>
        {
            var result = new JsonObject();
            var i = 0;
            foreach (var key in keys.Distinct(StringComparer.Ordinal))
            {
                result[key] = values[i++];
            }

            return result;
        });
    }

    private static Gen<JsonArray> ArrayOfDepth(int depth)
    {
        var value = depth == 0 ? Scalar : Gen.Frequency(
            (6, Scalar),
            (1, ObjectOfDepth(depth - 1).Select(o => (JsonNode?)o)),
            (1, ArrayOfDepth(depth - 1).Select(a => (JsonNode?)a)));
        return value.Array[0, 4].Select(items => new JsonArray(items));
    }
}
