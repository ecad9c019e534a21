using System.Buffers.Text;
using System.Text;

namespace AuditStream.LoadGen.Produce;

/// <summary>
/// NDJSON batches of realistic events (about 330 bytes as sent, ~650 as stored and streamed) built from pre-encoded
/// halves, so the only per-event work is copying bytes and writing the send timestamp into <c>metadata.sent_ts</c>.
/// </summary>
internal sealed class EventBatch
{
    private readonly byte[][] _heads;
    private readonly byte[] _tail = "}}\n"u8.ToArray();

    public EventBatch(int types)
    {
        Types = Math.Max(1, types);
        _heads = Enumerable.Range(0, Types).Select(t => Encoding.UTF8.GetBytes(
            "{\"type\":\"" + EventTypes.Name(t, Types) + "\",\"severity\":\"info\",\"category\":\"data\",\"actor_id\":\"user-42\"," +
            "\"actor_type\":\"user\",\"target_id\":\"record-7\",\"target_type\":\"customer_record\",\"action\":\"update\"," +
            "\"outcome\":\"success\",\"source\":{\"service\":\"billing-api\",\"ip\":\"10.1.2.3\",\"request_id\":\"req-1\"}," +
            "\"metadata\":{\"region\":\"eu-west-1\",\"reason\":\"customer request\",\"channel\":\"web\",\"attempt\":3,\"sent_ts\":")).ToArray();
    }

    public int Types { get; }

    public int MaxEventBytes => _heads.Max(h => h.Length) + 20 + _tail.Length;

    /// <summary>Writes events <paramref name="first"/>..first+count-1 (type = index % Types) stamped <paramref name="sentTs"/>; returns the bytes written.</summary>
    public int Write(Span<byte> destination, long first, int count, long sentTs)
    {
        var at = 0;
        for (var i = 0; i < count; i++)
        {
            var head = _heads[(first + i) % Types];
            head.CopyTo(destination[at..]);
            at += head.Length;
            Utf8Formatter.TryFormat(sentTs, destination[at..], out var written);
            at += written;
            _tail.CopyTo(destination[at..]);
            at += _tail.Length;
        }

        return at;
    }

    /// <summary>Adds how many of events first..first+count-1 have each type to <paramref name="perType"/>.</summary>
    public void CountTypes(long first, int count, long[] perType)
    {
        for (var i = 0; i < count; i++)
        {
            perType[(first + i) % Types]++;
        }
    }
}
