using System.Data.Common;

namespace AuditStream.Ledger.Storage;

/// <summary>Reads (position, hash) rows that must cover a range without a hole: a missing hash means the store was damaged.</summary>
internal static class ContiguousHashes
{
    /// <summary>Runs <paramref name="cmd"/> (rows of position, hash in order) and returns the hashes of [<paramref name="from"/>, <paramref name="toExclusive"/>).</summary>
    /// <exception cref="LedgerCorruptException">A position in the range has no row.</exception>
    public static async Task<byte[][]> ReadAsync(DbCommand cmd, long from, long toExclusive, string what, CancellationToken cancellationToken)
    {
        var hashes = new byte[Math.Max(0, toExclusive - from)][];
        var expected = from;
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var position = reader.GetInt64(0);
            if (position != expected)
            {
                throw new LedgerCorruptException($"The store lacks the {what} hash at position {expected}.");
            }

            hashes[expected - from] = reader.GetFieldValue<byte[]>(1);
            expected++;
        }

        if (expected != toExclusive)
        {
            throw new LedgerCorruptException($"The store lacks the {what} hash at position {expected}.");
        }

        return hashes;
    }
}
