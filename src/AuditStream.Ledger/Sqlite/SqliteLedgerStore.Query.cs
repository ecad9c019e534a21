using System.Globalization;
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
    public async Task<string> ReadLedgerIdAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken);
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT value FROM ledger_meta WHERE key = '{SqliteSchema.LedgerIdKey}'";
        try
        {
            return await cmd.ExecuteScalarAsync(cancellationToken) as string ?? throw NoLedgerId(_path);
        }
        catch (SqliteException exception) when (exception.SqliteErrorCode == 1)
        {
            // SQLITE_ERROR "no such table": a file from a build before ledger ids, not opened for writing since.
            throw NoLedgerId(_path);
        }
    }

    private static InvalidOperationException NoLedgerId(string where) =>
        new($"The ledger {where} has no ledger id yet: start the server (or run append) on it once with this build to record one.");

    /// <inheritdoc />
    public async Task<QueryPage> QueryAsync(EventQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        var page = new PageBuilder(query);
        await using var connection = await OpenReadAsync(cancellationToken);
        var upTo = query.UpToSeq ?? long.MaxValue;
        var indexedThrough = Math.Min(_index?.IndexedThrough ?? 0, upTo);
        if (Driver(query) is { } driver && page.After < indexedThrough)
        {
            var done = await QueryIndexedAsync(connection, driver, indexedThrough, page, cancellationToken);
            if (done is not null)
            {
                return done;
            }
        }

        return await QueryTailAsync(connection, page, cancellationToken);
    }

    /// <summary>Accumulates one page: the records kept, the seq examined last, and how many rows were examined.</summary>
    private sealed class PageBuilder(EventQuery query)
    {
        public EventQuery Query { get; } = query;

        public List<LedgerRecord> Records { get; } = new(Math.Min(query.Limit, 1024));

        public long After { get; set; } = query.AfterSeq;

        public int Scanned { get; set; }

        public bool IsFull => Records.Count == Query.Limit;

        /// <summary>Offers a row that satisfied the SQL part; returns true when the page is full.</summary>
        public bool Offer(LedgerRecord record)
        {
            After = record.Seq;
            Scanned++;
            if (Query.Residual is null || Query.Residual(record))
            {
                Records.Add(record);
            }

            return IsFull;
        }
    }

    /// <summary>The indexed dimension that drives an indexed query: the most selective one present.</summary>
    private static (string Column, IReadOnlyCollection<string> Keys)? Driver(EventQuery query) =>
        query.TargetIds.Count > 0 ? ("target_id", query.TargetIds)
        : query.ActorIds.Count > 0 ? ("actor_id", query.ActorIds)
        : query.TenantId is not null ? ("tenant_id", [query.TenantId])
        : query.EventTypes.Count > 0 ? ("type", query.EventTypes)
        : null;

    private async Task<QueryPage?> QueryIndexedAsync(
        SqliteConnection events, (string Column, IReadOnlyCollection<string> Keys) driver, long indexedThrough, PageBuilder page, CancellationToken cancellationToken)
    {
        var chunk = Math.Clamp(page.Query.Limit * 2, 256, MaxScanPerQuery);
        await using var index = new SqliteConnection(_indexReadConnectionString);
        await index.OpenAsync(cancellationToken);
        while (true)
        {
            // One ordered range read per key, merged: an IN list over (key, seq) would make SQLite sort every match.
            var candidates = new List<long>();
            foreach (var key in driver.Keys)
            {
                await using var cmd = index.CreateCommand();
                cmd.CommandText = $"SELECT seq FROM by_{driver.Column} WHERE key = $key AND seq > $after AND seq <= $through ORDER BY seq LIMIT $chunk";
                cmd.Parameters.AddWithValue("$key", key);
                cmd.Parameters.AddWithValue("$after", page.After);
                cmd.Parameters.AddWithValue("$through", indexedThrough);
                cmd.Parameters.AddWithValue("$chunk", chunk);
                await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    candidates.Add(reader.GetInt64(0));
                }
            }

            candidates.Sort();
            var exhausted = candidates.Count < chunk;
            if (candidates.Count > chunk)
            {
                // Beyond the chunk-th smallest seq some key's list may be cut short: stop there.
                candidates.RemoveRange(chunk, candidates.Count - chunk);
                exhausted = false;
            }

            if (candidates.Count > 0)
            {
                var scannedBefore = page.Scanned;
                await using var cmd = BuildQuery(events, page.Query, page.After, candidates.Count, candidates);
                await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    if (page.Offer(ReadRecord(reader)))
                    {
                        return new QueryPage(page.Records, page.After);
                    }
                }

                page.After = candidates[^1];
                page.Scanned = scannedBefore + candidates.Count;
            }

            if (exhausted)
            {
                page.After = indexedThrough;
                return null;
            }

            if (page.Scanned >= MaxScanPerQuery)
            {
                return new QueryPage(page.Records, page.After);
            }
        }
    }

    private static async Task<QueryPage> QueryTailAsync(SqliteConnection connection, PageBuilder page, CancellationToken cancellationToken)
    {
        var query = page.Query;
        while (true)
        {
            // Without a residual predicate SQL does all the filtering: one extra row proves there is more.
            var chunk = query.Residual is null ? query.Limit - page.Records.Count + 1 : Math.Clamp(query.Limit * 2, 256, MaxScanPerQuery);
            await using var cmd = BuildQuery(connection, query, page.After, chunk, candidates: null);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            var rows = 0;
            while (await reader.ReadAsync(cancellationToken))
            {
                rows++;
                var record = ReadRecord(reader);
                if (query.Residual is null && page.IsFull)
                {
                    return new QueryPage(page.Records, page.After);
                }

                if (page.Offer(record) && query.Residual is not null)
                {
                    return new QueryPage(page.Records, page.After);
                }
            }

            if (rows < chunk)
            {
                return new QueryPage(page.Records, ScannedThroughSeq: null);
            }

            if (page.Scanned >= MaxScanPerQuery)
            {
                return new QueryPage(page.Records, page.After);
            }
        }
    }

    private static SqliteCommand BuildQuery(SqliteConnection connection, EventQuery query, long afterSeq, int limit, List<long>? candidates)
    {
        var cmd = connection.CreateCommand();
        var sql = new StringBuilder(SelectRecordSql).Append(" WHERE e.seq > $after");
        cmd.Parameters.AddWithValue("$after", afterSeq);
        if (candidates is not null)
        {
            // Candidates come from the side index; every column predicate is still checked here.
            sql.Append(" AND e.seq IN (").AppendJoin(',', candidates.Select(c => c.ToString(CultureInfo.InvariantCulture))).Append(')');
        }

        EventQuerySql.AppendFilters(cmd, sql, query, AppendIn);
        sql.Append(" ORDER BY e.seq LIMIT $limit");
        cmd.Parameters.AddWithValue("$limit", limit);
        cmd.CommandText = sql.ToString();
        return cmd;
    }

    private static void AppendIn(System.Data.Common.DbCommand cmd, StringBuilder sql, string column, string prefix, IReadOnlyCollection<string> values)
    {
        sql.Append(column).Append(" IN (");
        var i = 0;
        foreach (var value in values)
        {
            var name = "$" + prefix + i.ToString(CultureInfo.InvariantCulture);
            sql.Append(i == 0 ? "" : ",").Append(name);
            EventQuerySql.Bind(cmd, name, value);
            i++;
        }

        sql.Append(')');
    }
}
