using System.Buffers.Text;

namespace AuditStream.Ledger.Verification;

/// <summary>Reads the ledger fields a canonical body carries about its own position, without parsing the JSON.</summary>
internal static class BodyFields
{
    private static ReadOnlySpan<byte> PrevHashKey => "\"prev_hash\":\""u8;

    private static ReadOnlySpan<byte> SeqKey => "\",\"seq\":"u8;

    /// <summary>
    /// The writer puts <c>"prev_hash":"…","seq":N,</c> together. Only the top level can hold a <c>prev_hash</c> key after
    /// <c>pii</c>/<c>metadata</c> (which sort before it), so the last occurrence is the ledger's.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out long seq, Span<byte> prevHash)
    {
        seq = 0;
        var at = body.LastIndexOf(PrevHashKey);
        if (at < 0 || body.Length < at + PrevHashKey.Length + 64 + SeqKey.Length)
        {
            return false;
        }

        var hex = body.Slice(at + PrevHashKey.Length, 64);
        if (Convert.FromHexString(hex, prevHash, out _, out var written) != System.Buffers.OperationStatus.Done || written != 32)
        {
            return false;
        }

        var rest = body[(at + PrevHashKey.Length + 64)..];
        if (!rest.StartsWith(SeqKey) || !Utf8Parser.TryParse(rest[SeqKey.Length..], out seq, out _))
        {
            return false;
        }

        return true;
    }
}
