using System.Text.Json;
using AuditStream.Events;

namespace AuditStream.Canonical;

/// <summary>Turns a validated, classified event into a <see cref="PreparedEvent"/> (RFC 8785 canonical form, ledger fields left out).</summary>
/// <remarks>
/// Member names are the ones <see cref="AuditJsonContext"/> uses. Written in RFC 8785 §3.2.3 order, which for these
/// ASCII names is plain byte order. Values are normalized so the body does not depend on how the producer spelled them:
/// <c>id</c> is the lowercase hyphenated UUID; <c>occurred_at</c> is converted to UTC and written as
/// <c>yyyy-MM-ddTHH:mm:ss[.f…]Z</c> with the 100 ns fraction trimmed of trailing zeros (no fraction when zero);
/// <c>pii</c> and <c>metadata</c> are canonicalized by <see cref="JsonCanonicalizer"/>; <c>compliance</c> keeps its order.
/// </remarks>
public static class EventCanonicalizer
{
    /// <summary>Length of the longest <c>occurred_at</c> value: <c>yyyy-MM-ddTHH:mm:ss.fffffffZ</c>.</summary>
    private const int OccurredAtMaxLength = 28;

    /// <summary>Canonicalizes <paramref name="validated"/>, whose <c>id</c> must be set.</summary>
    /// <exception cref="ArgumentException"><c>id</c>, <c>type</c>, <c>severity</c> or <c>category</c> is missing, or a compliance tag is null.</exception>
    /// <exception cref="JsonCanonicalizationException">A string, <c>pii</c> or <c>metadata</c> has no canonical form.</exception>
    public static PreparedEvent Prepare(AuditEvent validated, bool idSuppliedByProducer)
    {
        ArgumentNullException.ThrowIfNull(validated);
        var id = validated.Id ?? throw new ArgumentException("The event has no id; assign one before preparing it.", nameof(validated));
        var type = validated.Type ?? throw MissingField("type");
        var severity = validated.Severity ?? throw MissingField("severity");
        var category = validated.Category ?? throw MissingField("category");

        using var output = new PooledByteBufferWriter(1024);

        // Head: "{" and every member that sorts before "prev_hash", each followed by a comma.
        output.Write((byte)'{');
        WriteString(output, "\"action\":"u8, validated.Action);
        WriteString(output, "\"actor_id\":"u8, validated.ActorId);
        WriteString(output, "\"actor_type\":"u8, validated.ActorType);
        WriteString(output, "\"category\":"u8, category);
        var complianceStart = output.WrittenCount;
        WriteCompliance(output, validated.Compliance);
        var complianceEnd = output.WrittenCount;
        WriteId(output, id);
        WriteJson(output, "\"metadata\":"u8, validated.Metadata);
        WriteOccurredAt(output, validated.OccurredAt);
        WriteString(output, "\"outcome\":"u8, validated.Outcome);
        WriteJson(output, "\"pii\":"u8, validated.Pii);

        // Mid: every member between "seq" and "timestamp", each followed by a comma.
        var midStart = output.WrittenCount;
        WriteString(output, "\"severity\":"u8, severity);
        WriteSource(output, validated.Source);
        WriteString(output, "\"subject_id\":"u8, validated.SubjectId);
        WriteString(output, "\"target_id\":"u8, validated.TargetId);
        WriteString(output, "\"target_type\":"u8, validated.TargetType);
        WriteString(output, "\"tenant_id\":"u8, validated.TenantId);

        // Tail: "type", the last member, and the closing brace.
        var tailStart = output.WrittenCount;
        output.Write("\"type\":"u8);
        JsonCanonicalizer.WriteString(type, output);
        output.Write((byte)'}');

        return new PreparedEvent(validated, idSuppliedByProducer, output.WrittenSpan.ToArray(), midStart, tailStart, complianceStart..complianceEnd);
    }

    /// <summary>Writes <paramref name="value"/> as <c>occurred_at</c> is stored: UTC, seconds fraction trimmed of trailing zeros.</summary>
    internal static int FormatOccurredAt(DateTimeOffset value, Span<byte> destination)
    {
        var utc = value.UtcDateTime;
        var (year, month, day) = utc;
        Timestamps.WriteDigits(destination[..4], year);
        destination[4] = (byte)'-';
        Timestamps.WriteDigits(destination.Slice(5, 2), month);
        destination[7] = (byte)'-';
        Timestamps.WriteDigits(destination.Slice(8, 2), day);
        destination[10] = (byte)'T';
        Timestamps.WriteDigits(destination.Slice(11, 2), utc.Hour);
        destination[13] = (byte)':';
        Timestamps.WriteDigits(destination.Slice(14, 2), utc.Minute);
        destination[16] = (byte)':';
        Timestamps.WriteDigits(destination.Slice(17, 2), utc.Second);
        var pos = 19;
        var fraction = (int)(utc.Ticks % TimeSpan.TicksPerSecond);
        if (fraction != 0)
        {
            var digits = 7;
            while (fraction % 10 == 0)
            {
                fraction /= 10;
                digits--;
            }

            destination[pos++] = (byte)'.';
            Timestamps.WriteDigits(destination.Slice(pos, digits), fraction);
            pos += digits;
        }

        destination[pos++] = (byte)'Z';
        return pos;
    }

#pragma warning disable CA2208 // The argument at fault is Prepare's event, whose field is named in the message.
    private static ArgumentException MissingField(string field)
        => new($"The event has no {field}; validate it before preparing it.", "validated");
#pragma warning restore CA2208

    private static void WriteString(PooledByteBufferWriter output, ReadOnlySpan<byte> key, string? value)
    {
        if (value is null)
        {
            return;
        }

        output.Write(key);
        JsonCanonicalizer.WriteString(value, output);
        output.Write((byte)',');
    }

    private static void WriteJson(PooledByteBufferWriter output, ReadOnlySpan<byte> key, JsonElement? value)
    {
        // default(JsonElement) carries no value; treat it like an absent field rather than fail.
        if (value is not { ValueKind: not JsonValueKind.Undefined } element)
        {
            return;
        }

        output.Write(key);
        JsonCanonicalizer.WriteCanonical(element, output);
        output.Write((byte)',');
    }

    private static void WriteCompliance(PooledByteBufferWriter output, IReadOnlyList<string>? tags)
    {
        if (tags is null)
        {
            return;
        }

        output.Write("\"compliance\":["u8);
        for (var i = 0; i < tags.Count; i++)
        {
            if (i > 0)
            {
                output.Write((byte)',');
            }

            JsonCanonicalizer.WriteString(tags[i] ?? throw new ArgumentException($"Compliance tag {i} is null.", nameof(tags)), output);
        }

        output.Write("],"u8);
    }

    private static void WriteId(PooledByteBufferWriter output, Guid id)
    {
        output.Write("\"id\":\""u8);
        var span = output.GetSpan(36);
        if (!id.TryFormat(span, out var written, "D"))
        {
            throw new InvalidOperationException("A UUID did not fit in 36 bytes.");
        }

        output.Advance(written);
        output.Write("\","u8);
    }

    private static void WriteOccurredAt(PooledByteBufferWriter output, DateTimeOffset? occurredAt)
    {
        if (occurredAt is not { } value)
        {
            return;
        }

        output.Write("\"occurred_at\":\""u8);
        var written = FormatOccurredAt(value, output.GetSpan(OccurredAtMaxLength));
        output.Advance(written);
        output.Write("\","u8);
    }

    private static void WriteSource(PooledByteBufferWriter output, EventSource? source)
    {
        if (source is null)
        {
            return;
        }

        output.Write("\"source\":{"u8);
        var first = true;
        WriteSourceField(output, ref first, "\"ip\":"u8, source.Ip);
        WriteSourceField(output, ref first, "\"request_id\":"u8, source.RequestId);
        WriteSourceField(output, ref first, "\"service\":"u8, source.Service);
        WriteSourceField(output, ref first, "\"trace_id\":"u8, source.TraceId);
        WriteSourceField(output, ref first, "\"user_agent\":"u8, source.UserAgent);
        output.Write("},"u8);
    }

    private static void WriteSourceField(PooledByteBufferWriter output, ref bool first, ReadOnlySpan<byte> key, string? value)
    {
        if (value is null)
        {
            return;
        }

        if (!first)
        {
            output.Write((byte)',');
        }

        first = false;
        output.Write(key);
        JsonCanonicalizer.WriteString(value, output);
    }
}
