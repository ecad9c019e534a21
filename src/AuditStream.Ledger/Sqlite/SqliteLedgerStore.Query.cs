using System.Text;
using AuditStream.Events;
using AuditStream.Ledger.Storage;
using Microsoft.Data.Sqlite;

namespace AuditStream.Ledger.Sqlite;

public sealed partial class SqliteLedgerStore
{
    /// <summary>Most rows one query examines for its residual predicate before returning a partial page with a cursor.</summary>
    internal const int MaxScanPerQuery = 10_000;

    /// <inheritdoc />
    public async Task<QueryPage> QueryAsync(EventQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        var results = new List<LedgerRecord>(Math.Min(query.Limit, 1024));
        var after = query.AfterSeq;
        var scanned = 0;
        await using var connection = await OpenReadAsync(cancellationToken);
        while (true)
        {
            // Without a residual predicate SQL does all the filtering, so one round trip of exactly Limit rows suffices.
            var chunk = query.Residual is null ? query.Limit + 1 : Math.Clamp(query.Limit * 2, 256, MaxScanPerQuery);
            await using var cmd = BuildQuery(connection, query, after, chunk);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            var rows = 0;
            while (await reader.ReadAsync(cancellationToken))
            {
                rows++;
                var record = ReadRecord(reader);
                if (query.Residual is null && results.Count == query.Limit)
                {
                    // The extra row proves there is more.
                    return new QueryPage(results, after);
                }

                after = record.Seq;
                scanned++;
                if (query.Residual is null || query.Residual(record))
                {
                    results.Add(record);
                    if (query.Residual is not null && results.Count == query.Limit)
                    {
                        return new QueryPage(results, after);
                    }
                }
            }

            if (rows < chunk)
            {
                return new QueryPage(results, ScannedThroughSeq: null);
            }

            if (scanned >= MaxScanPerQuery)
            {
                return new QueryPage(results, after);
            }
        }
    }

    private static SqliteCommand BuildQuery(SqliteConnection connection, EventQuery query, long afterSeq, int limit)
    {
        var cmd = connection.CreateCommand();
        var sql = new StringBuilder(SelectRecordSql).Append(" WHERE e.seq > $after");
        cmd.Parameters.AddWithValue("$after", afterSeq);
        if (query.UpToSeq is { } upTo)
        {
            sql.Append(" AND e.seq <= $upto");
            cmd.Parameters.AddWithValue("$upto", upTo);
        }

        AppendIn(cmd, sql, "e.type", "t", query.EventTypes);
        AppendIn(cmd, sql, "e.severity", "s", query.Severities);
        AppendIn(cmd, sql, "e.category", "c", query.Categories);
        AppendIn(cmd, sql, "e.actor_id", "a", query.ActorIds);
        AppendIn(cmd, sql, "e.target_id", "g", query.TargetIds);
        if (query.TenantId is not null)
        {
            sql.Append(" AND e.tenant_id = $tenant");
            cmd.Parameters.AddWithValue("$tenant", query.TenantId);
        }

        if (query.FromMicros is { } from)
        {
            sql.Append(" AND e.ts >= $fromts");
            cmd.Parameters.AddWithValue("$fromts", from);
        }

        if (query.ToMicros is { } to)
        {
            sql.Append(" AND e.ts < $tots");
            cmd.Parameters.AddWithValue("$tots", to);
        }

        sql.Append(" ORDER BY e.seq LIMIT $limit");
        cmd.Parameters.AddWithValue("$limit", limit);
        cmd.CommandText = sql.ToString();
        return cmd;
    }

    private static void AppendIn(SqliteCommand cmd, StringBuilder sql, string column, string prefix, IReadOnlyCollection<string> values)
    {
        if (values.Count == 0)
        {
            return;
        }

        sql.Append(" AND ").Append(column).Append(" IN (");
        var i = 0;
        foreach (var value in values)
        {
            var name = "$" + prefix + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            sql.Append(i == 0 ? "" : ",").Append(name);
            cmd.Parameters.AddWithValue(name, value);
            i++;
        }

        sql.Append(')');
    }
}
