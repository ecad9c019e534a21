using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AuditStream.Events;

namespace AuditStream.Sinks.Alerts;

/// <summary>
/// The <c>metadata.alert</c> object of an alert event (<c>type</c> under <c>alert.</c>):
/// <c>{"rule", "summary", "related_seqs", "group_key"}</c>.
/// </summary>
/// <param name="Rule">The rule's name.</param>
/// <param name="Summary">One line for humans.</param>
/// <param name="RelatedSeqs">Seqs of the events that fired it.</param>
/// <param name="GroupKey">The value of the rule's group-by field (empty when it has none).</param>
public sealed record AlertInfo(string Rule, string Summary, IReadOnlyList<long> RelatedSeqs, string GroupKey)
{
    /// <summary>The <c>type</c> of a fired alert.</summary>
    public const string RaisedType = "alert.raised";

    /// <summary>The <c>type</c> of an alert that is over (routed to PagerDuty as <c>resolve</c>).</summary>
    public const string ResolvedType = "alert.resolved";

    /// <summary>True for any alert event (its type is under <c>alert.</c>); alert rules never evaluate these.</summary>
    public static bool IsAlert(AuditEvent e) => e?.Type?.StartsWith("alert.", StringComparison.Ordinal) == true;

    /// <summary>Reads <c>metadata.alert</c> of an alert event; null when <paramref name="e"/> is not one.</summary>
    public static AlertInfo? Read(AuditEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (!IsAlert(e) || e.Metadata is not { ValueKind: JsonValueKind.Object } metadata
            || !metadata.TryGetProperty("alert", out var alert) || alert.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var seqs = alert.TryGetProperty("related_seqs", out var related) && related.ValueKind == JsonValueKind.Array
            ? related.EnumerateArray().Where(static s => s.ValueKind == JsonValueKind.Number).Select(static s => s.GetInt64()).ToList()
            : [];
        return new AlertInfo(Text(alert, "rule"), Text(alert, "summary"), seqs, Text(alert, "group_key"));
    }

    /// <summary>PagerDuty's limit on <c>dedup_key</c>.</summary>
    public const int MaxDedupKeyLength = 255;

    /// <summary>
    /// The PagerDuty <c>dedup_key</c> of this alert in <paramref name="tenantId"/>'s ledger: <c>auditstream/{rule}/{group_key}</c>,
    /// or <c>auditstream/{rule}@{tenant}/{group_key}</c> for a tenant (with <c>%</c> and <c>/</c> of the tenant percent-escaped),
    /// so a raised alert and its resolution meet in one incident and two tenants never share one. A key over 255 characters
    /// becomes <c>auditstream/{rule}/sha256:{hex}</c> of the full key.
    /// </summary>
    public string DedupKey(string? tenantId)
    {
        var key = tenantId is null
            ? $"auditstream/{Rule}/{GroupKey}"
            : $"auditstream/{Rule}@{tenantId.Replace("%", "%25", StringComparison.Ordinal).Replace("/", "%2F", StringComparison.Ordinal)}/{GroupKey}";
        return key.Length <= MaxDedupKeyLength ? key : $"auditstream/{Rule}/sha256:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))}";
    }

    /// <summary>Writes the <c>metadata</c> object of an alert event: <c>{"alert":{…}}</c>.</summary>
    public JsonElement ToMetadata()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartObject("alert");
            w.WriteString("rule", Rule);
            w.WriteString("summary", Summary);
            w.WriteStartArray("related_seqs");
            foreach (var seq in RelatedSeqs)
            {
                w.WriteNumberValue(seq);
            }

            w.WriteEndArray();
            w.WriteString("group_key", GroupKey);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        using var document = JsonDocument.Parse(buffer.ToArray());
        return document.RootElement.Clone();
    }

    private static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "";
}
