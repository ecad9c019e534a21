using System.Text;
using System.Text.Json;
using AuditStream.Sinks.Tests.Support;

namespace AuditStream.Sinks.Tests.Elasticsearch;

/// <summary>Reads and answers <c>_bulk</c> the way Elasticsearch documents it.</summary>
internal static class FakeElasticsearch
{
    public static bool IsBulk(ReceivedRequest r) => r.Method == "POST" && r.Path.StartsWith("/_bulk", StringComparison.Ordinal);

    /// <summary>(action metadata, document) pairs of a bulk body.</summary>
    public static List<(JsonElement Action, JsonElement Document)> Items(ReceivedRequest r)
    {
        var lines = Encoding.UTF8.GetString(r.Body).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var items = new List<(JsonElement, JsonElement)>();
        for (var i = 0; i + 1 < lines.Length; i += 2)
        {
            items.Add((JsonDocument.Parse(lines[i]).RootElement.GetProperty("index"), JsonDocument.Parse(lines[i + 1]).RootElement));
        }

        return items;
    }

    /// <summary>A bulk response with one status per item (and an error object for the failed ones).</summary>
    public static Reply Response(ReceivedRequest r, Func<int, JsonElement, int> status)
    {
        var items = Items(r);
        var json = new StringBuilder("{\"took\":3,\"errors\":");
        var statuses = items.Select((item, i) => status(i, item.Action)).ToList();
        json.Append(statuses.Any(s => s >= 300) ? "true" : "false").Append(",\"items\":[");
        for (var i = 0; i < items.Count; i++)
        {
            var (action, _) = items[i];
            json.Append(i == 0 ? "" : ",").Append("{\"index\":{\"_index\":\"").Append(action.GetProperty("_index").GetString())
                .Append("\",\"_id\":\"").Append(action.GetProperty("_id").GetString()).Append("\",\"status\":").Append(statuses[i]);
            json.Append(statuses[i] switch
            {
                < 300 => ",\"result\":\"created\",\"_version\":1",
                429 => ",\"error\":{\"type\":\"es_rejected_execution_exception\",\"reason\":\"rejected execution of coordinating operation\"}",
                >= 500 => ",\"error\":{\"type\":\"unavailable_shards_exception\",\"reason\":\"primary shard is not active\"}",
                _ => ",\"error\":{\"type\":\"mapper_parsing_exception\",\"reason\":\"failed to parse field [source.ip] of type [ip]\"}",
            });
            json.Append("}}");
        }

        return Reply.Ok(json.Append("]}").ToString());
    }
}
