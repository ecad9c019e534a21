using System.Text;
using AuditStream.Events;
using AuditStream.Ledger.Storage;
using Npgsql;

namespace AuditStream.Ledger.Postgres;

public sealed partial class PostgresLedgerStore
{
    /// <summary>Most rows one query examines for its residual predicate before returning a partial page with a cursor.</summary>
    internal const int MaxScanPerQuery = 10_000;

    /// <inheritdoc />
    public async Task<string> ReadLedgerIdAsync(CancellationToken cancellationToken)
    {
        await using var cmd = _dataSource.CreateCommand($"SELECT value FROM ledger_meta WHERE key = '{PostgresSchema.LedgerIdKey}'");
        try
        {
            return await cmd.ExecuteScalarAsync(cancellationToken) as string ?? throw NoLedgerId();
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            // A ledger from a build before ledger ids, not initialized since.
            throw NoLedgerId();
        }
    }

    private static InvalidOperationException NoLedgerId() =>
        new("The PostgreSQL ledger has no ledger id yet: start the server (or run append) on it once with this build to record one.");

    /// <inheritdoc />
    public async Task<QueryPage> QueryAsync(EventQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        var records = new List<LedgerRecord>(Math.Min(query.Limit, 1024));
        var after = query.AfterSeq;
        var scanned = 0;
        while (true)
        {
            // Every filter column is in SQL (the planner picks among the (column, seq) indexes); without a residual
            // predicate one extra row proves there is more, with one the rows are fetched in chunks and matched here.
            var chunk = query.Residual is null ? query.Limit + 1 : Math.Clamp(query.Limit * 2, 256, MaxScanPerQuery);
            await using var cmd = BuildQuery(query, after, chunk);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            var rows = 0;
            while (await reader.ReadAsync(cancellationToken))
            {
                rows++;
                if (records.Count == query.Limit)
                {
                    // Only reached without a residual: the extra row.
                    return new QueryPage(records, after);
                }

                var record = ReadRecord(reader);
                after = record.Seq;
                scanned++;
                if (query.Residual is null || query.Residual(record))
                {
                    records.Add(record);
                    if (records.Count == query.Limit && query.Residual is not null)
                    {
                        return new QueryPage(records, after);
                    }
                }
            }

            if (rows < chunk)
            {
                return new QueryPage(records, ScannedThroughSeq: null);
            }

            if (scanned >= MaxScanPerQuery)
            {
                return new QueryPage(records, after);
            }
        }
    }

    private NpgsqlCommand BuildQuery(EventQuery query, long afterSeq, int limit)
    {
        var cmd = _dataSource.CreateCommand();
        var sql = new StringBuilder(SelectRecordSql).Append(" WHERE e.seq > @after");
        cmd.Parameters.AddWithValue("after", afterSeq);
        EventQuerySql.AppendFilters(cmd, sql, query, AppendAny);
        sql.Append(" ORDER BY e.seq LIMIT @limit");
        cmd.Parameters.AddWithValue("limit", limit);
        cmd.CommandText = sql.ToString();
        return cmd;
    }

    // = ANY(array): one statement text per combination of present filters, whatever the number of values.
    private static void AppendAny(System.Data.Common.DbCommand cmd, StringBuilder sql, string column, string name, IReadOnlyCollection<string> values)
    {
        sql.Append(column).Append(" = ANY(@").Append(name).Append("::text[])");
        EventQuerySql.Bind(cmd, "@" + name, values.ToArray());
    }
}
