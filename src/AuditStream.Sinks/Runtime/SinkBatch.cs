using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AuditStream.Events;

namespace AuditStream.Sinks.Runtime;

/// <summary>Records to deliver in one request, in seq order, with a delivery id that stays the same when the batch is retried.</summary>
public sealed class SinkBatch
{
    internal SinkBatch(string sinkName, IReadOnlyList<LedgerRecord> records)
    {
        Records = records;
        DeliveryId = DeriveId(sinkName, records);
    }

    /// <summary>The records, in seq order.</summary>
    public IReadOnlyList<LedgerRecord> Records { get; }

    /// <summary>
    /// <c>msg_</c> and 26 hex digits derived from the sink and the seqs: a retry of the same records carries the same id, so a
    /// receiver can discard a delivery it has already processed.
    /// </summary>
    public string DeliveryId { get; }

    private static string DeriveId(string sinkName, IReadOnlyList<LedgerRecord> records)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"{sinkName}\n{records[0].Seq}\n{records[^1].Seq}\n{records.Count}");
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        return "msg_" + Convert.ToHexStringLower(hash[..13]);
    }
}
