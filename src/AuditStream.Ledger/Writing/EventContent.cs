using System.IO.Hashing;
using System.Text.Json;
using AuditStream.Canonical;

namespace AuditStream.Ledger.Writing;

/// <summary>
/// A fingerprint of what a producer sent: the canonical event without the members the server sets (<c>prev_hash</c>,
/// <c>seq</c>, <c>timestamp</c>, <c>hash</c> and the classifier's <c>compliance</c>). Two sends of one id are the same
/// event exactly when their fingerprints are equal; a re-sent id with other content is a conflict, not a duplicate.
/// </summary>
/// <remarks>
/// XXH3-128 (not a cryptographic hash): both sides come from the same tenant, so a crafted collision could only make a
/// producer's own second event look like its first; random collisions are 2^-128.
/// </remarks>
internal static class EventContent
{
    // The writer thread's buffer for the bytes that are fingerprinted (one-shot hashing allocates nothing).
    [ThreadStatic]
    private static byte[]? s_scratch;

    /// <summary>The fingerprint of a prepared event (Head without <c>compliance</c>, Mid, Tail).</summary>
    public static UInt128 Of(PreparedEvent prepared)
    {
        var canonical = prepared.Canonical.AsSpan();
        var (complianceStart, complianceLength) = prepared.Compliance.GetOffsetAndLength(canonical.Length);
        if (complianceLength == 0)
        {
            return XxHash128.HashToUInt128(canonical);
        }

        var kept = Scratch(canonical.Length);
        canonical[..complianceStart].CopyTo(kept);
        canonical[(complianceStart + complianceLength)..].CopyTo(kept[complianceStart..]);
        return XxHash128.HashToUInt128(kept[..(canonical.Length - complianceLength)]);
    }

    /// <summary>
    /// The fingerprint of a stored canonical body: every top-level member but the server's, in order, each with the comma
    /// that follows it. Equal to <see cref="Of(PreparedEvent)"/> of the event it was written from.
    /// </summary>
    public static UInt128 OfStoredBody(ReadOnlySpan<byte> body)
    {
        var kept = Scratch(body.Length);
        var length = 0;
        var reader = new Utf8JsonReader(body);
        reader.Read();
        var from = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var memberStart = (int)reader.TokenStartIndex;
            var serverSet = reader.ValueTextEquals("prev_hash"u8) || reader.ValueTextEquals("seq"u8)
                || reader.ValueTextEquals("timestamp"u8) || reader.ValueTextEquals("hash"u8) || reader.ValueTextEquals("compliance"u8);
            reader.Read();
            reader.Skip();

            // Canonical JSON has no whitespace: the member ends where its value does, and a comma or the brace follows.
            var memberEnd = (int)reader.BytesConsumed;
            if (serverSet)
            {
                body[from..memberStart].CopyTo(kept[length..]);
                length += memberStart - from;
                from = memberEnd + (body[memberEnd] == (byte)',' ? 1 : 0);
            }
        }

        body[from..].CopyTo(kept[length..]);
        length += body.Length - from;
        return XxHash128.HashToUInt128(kept[..length]);
    }

    private static Span<byte> Scratch(int length)
    {
        if (s_scratch is not { } scratch || scratch.Length < length)
        {
            s_scratch = scratch = new byte[Math.Max(length, 4096)];
        }

        return scratch;
    }
}
