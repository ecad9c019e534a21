using System.Data.Common;
using System.Text;

namespace AuditStream.Ledger.Storage;

/// <summary>
/// The SQL predicates of an <see cref="EventQuery"/>'s column filters, shared by the SQL stores over ADO.NET: each store
/// says only how a list of values is matched (SQLite: an IN list; PostgreSQL: <c>= ANY(array)</c>).
/// </summary>
internal static class EventQuerySql
{
    /// <summary>Writes the predicate matching <paramref name="column"/> against any of <paramref name="values"/>, binding them under <paramref name="name"/>.</summary>
    public delegate void ListPredicate(DbCommand cmd, StringBuilder sql, string column, string name, IReadOnlyCollection<string> values);

    /// <summary>Appends <c> AND …</c> for the upper seq bound, the lists, the tenant and the time range of <paramref name="query"/> (columns of alias <c>e</c>).</summary>
    public static void AppendFilters(DbCommand cmd, StringBuilder sql, EventQuery query, ListPredicate list)
    {
        if (query.UpToSeq is { } upTo)
        {
            sql.Append(" AND e.seq <= @upto");
            Bind(cmd, "@upto", upTo);
        }

        AppendList(cmd, sql, list, "e.type", "t", query.EventTypes);
        AppendList(cmd, sql, list, "e.severity", "s", query.Severities);
        AppendList(cmd, sql, list, "e.category", "c", query.Categories);
        AppendList(cmd, sql, list, "e.actor_id", "a", query.ActorIds);
        AppendList(cmd, sql, list, "e.target_id", "g", query.TargetIds);
        if (query.TenantId is not null)
        {
            sql.Append(" AND e.tenant_id = @tenant");
            Bind(cmd, "@tenant", query.TenantId);
        }

        if (query.FromMicros is { } from)
        {
            sql.Append(" AND e.ts >= @fromts");
            Bind(cmd, "@fromts", from);
        }

        if (query.ToMicros is { } to)
        {
            sql.Append(" AND e.ts < @tots");
            Bind(cmd, "@tots", to);
        }
    }

    /// <summary>Adds a parameter named <paramref name="name"/> (with its prefix) holding <paramref name="value"/>.</summary>
    public static void Bind(DbCommand cmd, string name, object value)
    {
        var parameter = cmd.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        cmd.Parameters.Add(parameter);
    }

    private static void AppendList(DbCommand cmd, StringBuilder sql, ListPredicate list, string column, string name, IReadOnlyCollection<string> values)
    {
        if (values.Count > 0)
        {
            sql.Append(" AND ");
            list(cmd, sql, column, name, values);
        }
    }
}
