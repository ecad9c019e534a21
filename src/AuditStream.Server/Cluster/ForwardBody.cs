using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using AuditStream.Canonical;
using AuditStream.Events;

namespace AuditStream.Server.Cluster;

/// <summary>
/// The JSON array a follower forwards to the leader. From a producer's request (<see cref="FromRequest"/>) it is the
/// producer's own bytes, each event as it came with an id added where it had none (so that a retry after a failover
/// names the same events): the follower only frames the request, and the leader parses, checks and commits it once,
/// exactly as if the producer had posted it there. The server's own events (<see cref="Serialize"/>) are serialized.
/// The array lives in a pooled buffer: dispose it after the last attempt.
/// </summary>
internal sealed class ForwardBody : IDisposable
{
    // "id":"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", in front of an event's first member.
    private const int IdMemberLength = 5 + 38 + 1;

    private readonly PooledByteBufferWriter _buffer;

    private ForwardBody(PooledByteBufferWriter buffer, int count, AuditEvent[]? events, bool singleObject = false)
    {
        _buffer = buffer;
        SingleObject = singleObject;
        Count = count;
        Events = events;
    }

    /// <summary>Whether the producer sent one JSON object (answered with one receipt) rather than an array or NDJSON.</summary>
    public bool SingleObject { get; }

    /// <summary>How many events the array holds.</summary>
    public int Count { get; }

    /// <summary>The events as forwarded, each with its id, when they were serialized; null for a producer's bytes.</summary>
    public AuditEvent[]? Events { get; }

    public ReadOnlyMemory<byte> Memory => _buffer.WrittenMemory;

    /// <summary>
    /// The array for a producer's request (NDJSON, a JSON array of objects, or one object), or null when it is not
    /// well-formed JSON made of 1 to <paramref name="maxEvents"/> objects: then the follower parses it itself, so that its
    /// answer names every problem as the leader's would.
    /// </summary>
    public static ForwardBody? FromRequest(ReadOnlySpan<byte> body, bool ndjson, int maxEvents)
    {
        var found = new List<RawEvent>();
        try
        {
            if (!(ndjson ? ScanLines(body, found, maxEvents) : ScanJson(body, found, maxEvents)) || found.Count == 0)
            {
                return null;
            }
        }
        catch (JsonException)
        {
            return null;
        }

        var missing = 0;
        foreach (var e in found)
        {
            missing += e.Id == IdState.Present ? 0 : 1;
        }

        var ids = NewIds(missing);
        var writer = new PooledByteBufferWriter(body.Length + (found.Count * (IdMemberLength + 1)) + 2);
        writer.Write("["u8);
        var next = 0;
        for (var i = 0; i < found.Count; i++)
        {
            if (i > 0)
            {
                writer.Write(","u8);
            }

            var e = found[i];
            var json = body[e.Range];
            switch (e.Id)
            {
                case IdState.Present:
                    writer.Write(json);
                    break;
                case IdState.Null:
                    // "id": null becomes the new id in place.
                    writer.Write(json[..e.NullAt]);
                    WriteQuoted(writer, ids[next++]);
                    writer.Write(json[(e.NullAt + 4)..]);
                    break;
                default:
                    writer.Write("{\"id\":"u8);
                    WriteQuoted(writer, ids[next++]);
                    writer.Write(e.Members > 0 ? ","u8 : default);
                    writer.Write(json[1..]);
                    break;
            }
        }

        writer.Write("]"u8);
        return new ForwardBody(writer, found.Count, null, singleObject: !ndjson && body.TrimStart(" \t\r\n"u8)[0] == (byte)'{');
    }

    /// <summary>The array for <paramref name="events"/>, serialized, each with an id (a new one where it had none).</summary>
    public static ForwardBody Serialize(IReadOnlyList<AuditEvent> events)
    {
        var missing = events.Count(static e => e.Id is null);
        var ids = NewIds(missing);
        var withIds = new AuditEvent[events.Count];
        for (int i = 0, next = 0; i < events.Count; i++)
        {
            withIds[i] = events[i].Id is null ? events[i] with { Id = ids[next++] } : events[i];
        }

        var writer = new PooledByteBufferWriter(events.Count * 1024);
        using (var json = new Utf8JsonWriter(writer))
        {
            JsonSerializer.Serialize(json, withIds, AuditEventReading.Array);
        }

        return new ForwardBody(writer, withIds.Length, withIds);
    }

    public void Dispose() => _buffer.Dispose();

    /// <summary><paramref name="count"/> UUIDv7 ids (RFC 9562): one read of the system's random source for all of them.</summary>
    private static Guid[] NewIds(int count)
    {
        var ids = new Guid[count];
        if (count == 0)
        {
            return ids;
        }

        var random = new byte[count * 10];
        RandomNumberGenerator.Fill(random);
        var unixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Span<byte> uuid = stackalloc byte[16];
        for (var i = 0; i < count; i++)
        {
            var bits = random.AsSpan(i * 10, 10);
            BinaryPrimitives.WriteInt64BigEndian(uuid, unixMs << 16);
            uuid[6] = (byte)(0x70 | (bits[0] & 0x0F)); // version 7, then rand_a
            uuid[7] = bits[1];
            uuid[8] = (byte)(0x80 | (bits[2] & 0x3F)); // variant 10, then rand_b
            bits[3..].CopyTo(uuid[9..]);
            ids[i] = new Guid(uuid, bigEndian: true);
        }

        return ids;
    }

    private enum IdState
    {
        Absent,
        Null,
        Present,
    }

    // One event: its bytes in the body, whether it names an id, where an "id": null sits, and how many members it has.
    private readonly record struct RawEvent(Range Range, IdState Id, int NullAt, int Members);

    private static bool ScanLines(ReadOnlySpan<byte> body, List<RawEvent> found, int maxEvents)
    {
        foreach (var range in body.Split((byte)'\n'))
        {
            var line = body[range];
            var trimmed = line.Trim(" \t\r"u8);
            if (trimmed.IsEmpty)
            {
                continue;
            }

            if (found.Count == maxEvents)
            {
                return false;
            }

            var offset = range.Start.GetOffset(body.Length) + (line.Length - line.TrimStart(" \t\r"u8).Length);
            var reader = new Utf8JsonReader(trimmed);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            var e = ScanObject(ref reader, offset);
            if (reader.BytesConsumed != trimmed.Length)
            {
                return false;
            }

            found.Add(e);
        }

        return true;
    }

    private static bool ScanJson(ReadOnlySpan<byte> body, List<RawEvent> found, int maxEvents)
    {
        var reader = new Utf8JsonReader(body);
        if (!reader.Read())
        {
            return false;
        }

        if (reader.TokenType == JsonTokenType.StartObject)
        {
            found.Add(ScanObject(ref reader, 0));
            return !reader.Read();
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return false;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            if (found.Count == maxEvents)
            {
                return false;
            }

            found.Add(ScanObject(ref reader, 0));
        }

        return reader.TokenType == JsonTokenType.EndArray && !reader.Read();
    }

    // The reader is on an event's '{'; leaves it on the matching '}'. Offsets are relative to the reader's input + offset.
    private static RawEvent ScanObject(ref Utf8JsonReader reader, int offset)
    {
        var start = (int)reader.TokenStartIndex;
        var id = IdState.Absent;
        var nullAt = 0;
        var members = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            members++;
            var isId = id == IdState.Absent && reader.ValueTextEquals("id"u8);
            reader.Read();
            if (isId)
            {
                id = reader.TokenType == JsonTokenType.Null ? IdState.Null : IdState.Present;
                nullAt = (int)reader.TokenStartIndex - start;
            }

            reader.Skip();
        }

        return new RawEvent(new Range(offset + start, offset + (int)reader.BytesConsumed), id, nullAt, members);
    }

    private static void WriteQuoted(PooledByteBufferWriter writer, Guid id)
    {
        var span = writer.GetSpan(38);
        span[0] = (byte)'"';
        id.TryFormat(span[1..], out var written, "D");
        span[written + 1] = (byte)'"';
        writer.Advance(written + 2);
    }
}
