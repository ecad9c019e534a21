using System.Buffers.Binary;
using System.Security.Cryptography;
using AuditStream.Canonical;
using AuditStream.Events;

namespace AuditStream.Ledger.Cluster;

/// <summary>
/// The committed records a leader sends along with its commit announcement (DESIGN.md §6), so that followers extend
/// their head, Merkle frontier and feed without reading the records back from PostgreSQL. The backplane is not trusted:
/// the announcement is authenticated with HMAC-SHA256 under the cluster's key over everything but the bodies, and a
/// follower recomputes every record's hash from its body and the previous hash, so a forged, altered or replayed body
/// is refused and the follower reads the store instead. Layout (little-endian):
/// <code>
/// "ASR1" | count u32 | first seq i64 | prev_hash of the first (32) | count × (timestamp µs i64 | hash (32) | body length u32)
///        | HMAC (32) over all of the above | bodies, in order
/// </code>
/// </summary>
internal static class CarriedRecords
{
    private const int HashLength = 32;
    private const int HeaderLength = 4 + 4 + 8 + HashLength;
    private const int EntryLength = 8 + HashLength + 4;
    private static ReadOnlySpan<byte> Magic => "ASR1"u8;

    /// <summary>The announcement of <paramref name="records"/> (consecutive seqs), or null when their bodies exceed <paramref name="maxBytes"/>.</summary>
    public static byte[]? Encode(IReadOnlyList<LedgerRecord> records, byte[] key, int maxBytes)
    {
        if (records.Count == 0)
        {
            return null;
        }

        long size = HeaderLength + ((long)EntryLength * records.Count) + HashLength;
        foreach (var record in records)
        {
            size += record.Body.Length;
        }

        if (size > maxBytes)
        {
            return null;
        }

        var message = new byte[size];
        var span = message.AsSpan();
        Magic.CopyTo(span);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], (uint)records.Count);
        BinaryPrimitives.WriteInt64LittleEndian(span[8..], records[0].Seq);
        records[0].PrevHash.CopyTo(span[16..]);
        var entry = HeaderLength;
        var bodies = HeaderLength + (EntryLength * records.Count) + HashLength;
        foreach (var record in records)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[entry..], record.TimestampMicros);
            record.Hash.CopyTo(span[(entry + 8)..]);
            BinaryPrimitives.WriteUInt32LittleEndian(span[(entry + 8 + HashLength)..], (uint)record.Body.Length);
            entry += EntryLength;
            record.Body.CopyTo(span[bodies..]);
            bodies += record.Body.Length;
        }

        HMACSHA256.HashData(key, span[..entry], span.Slice(entry, HashLength));
        return message;
    }

    /// <summary>
    /// The records of <paramref name="message"/> when it is an authentic announcement under <paramref name="key"/> whose
    /// every hash is SHA-256(prev_hash ‖ body); null for anything else (the caller reads the store instead).
    /// </summary>
    public static List<LedgerRecord>? Decode(ReadOnlySpan<byte> message, byte[] key)
    {
        if (message.Length < HeaderLength + HashLength || !message.StartsWith(Magic))
        {
            return null;
        }

        var count = BinaryPrimitives.ReadUInt32LittleEndian(message[4..]);
        var firstSeq = BinaryPrimitives.ReadInt64LittleEndian(message[8..]);
        var macAt = HeaderLength + ((long)EntryLength * count);
        if (count == 0 || firstSeq < 1 || macAt + HashLength > message.Length)
        {
            return null;
        }

        Span<byte> mac = stackalloc byte[HashLength];
        HMACSHA256.HashData(key, message[..(int)macAt], mac);
        if (!CryptographicOperations.FixedTimeEquals(mac, message.Slice((int)macAt, HashLength)))
        {
            return null;
        }

        var records = new List<LedgerRecord>((int)count);
        var prevHash = message.Slice(16, HashLength).ToArray();
        var bodies = (int)macAt + HashLength;
        Span<byte> computed = stackalloc byte[HashLength];
        for (var i = 0; i < count; i++)
        {
            var entry = message.Slice(HeaderLength + (EntryLength * i), EntryLength);
            var length = BinaryPrimitives.ReadUInt32LittleEndian(entry[(8 + HashLength)..]);
            if (length > message.Length - bodies)
            {
                return null;
            }

            var body = message.Slice(bodies, (int)length);
            bodies += (int)length;
            ChainStep.ComputeHash(prevHash, body, computed);
            if (!computed.SequenceEqual(entry.Slice(8, HashLength)))
            {
                return null;
            }

            var hash = computed.ToArray();
            records.Add(new LedgerRecord(firstSeq + i, BinaryPrimitives.ReadInt64LittleEndian(entry), prevHash, hash, body.ToArray()));
            prevHash = hash;
        }

        return bodies == message.Length ? records : null;
    }
}
