using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AuditStream.Events;
using AuditStream.Filters;

namespace AuditStream.Sinks.Alerts;

/// <summary>
/// Evaluates alert rules over records in seq order and returns the alert events to append. Deterministic: the same records
/// give the same alerts with the same ids (derived from rule, tenant, group and the first event of the window), so a
/// replay after a crash re-appends ids the ledger already holds and nothing fires twice. Alert events are never evaluated.
/// </summary>
public sealed class AlertEngine
{
    private const int PruneEvery = 10_000;

    private readonly List<Rule> _rules;
    private readonly Dictionary<(int Rule, string Tenant, string Group), Queue<(long Seq, long Micros)>> _windows = [];
    private long _processed;

    /// <summary>Compiles <paramref name="rules"/>.</summary>
    public AlertEngine(IEnumerable<AlertRuleOptions> rules, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(rules);
        _rules = [.. rules.Select(r => new Rule(r, r.Filter is null ? CompiledFilter.All : CompiledFilter.Compile(r.Filter.ToStreamFilter(), time)))];
    }

    /// <summary>Feeds one record; returns the alerts it fires (usually none).</summary>
    public IReadOnlyList<AuditEvent> Process(LedgerRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var e = record.Event;
        if (AlertInfo.IsAlert(e))
        {
            return [];
        }

        if (++_processed % PruneEvery == 0)
        {
            Prune(record.TimestampMicros);
        }

        List<AuditEvent>? fired = null;
        for (var i = 0; i < _rules.Count; i++)
        {
            var rule = _rules[i];
            if (!rule.Filter.Matches(e))
            {
                continue;
            }

            var tenant = e.TenantId ?? "";
            var group = rule.Options.GroupBy is { } field ? GroupValue(e, field) : "";
            var key = (i, tenant, group);
            if (!_windows.TryGetValue(key, out var window))
            {
                _windows[key] = window = new Queue<(long, long)>();
            }

            var oldest = record.TimestampMicros - (long)(rule.Options.Window.Ticks / 10);
            while (window.Count > 0 && window.Peek().Micros <= oldest)
            {
                window.Dequeue();
            }

            window.Enqueue((record.Seq, record.TimestampMicros));
            if (window.Count >= rule.Options.Threshold)
            {
                var seqs = window.Select(static w => w.Seq).ToList();
                window.Clear();
                (fired ??= []).Add(Alert(rule.Options, e, tenant, group, seqs, record.Timestamp));
            }
        }

        return fired ?? (IReadOnlyList<AuditEvent>)[];
    }

    /// <summary>The open windows as JSON, saved with the evaluator's position.</summary>
    public string SaveState()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            foreach (var ((rule, tenant, group), window) in _windows)
            {
                if (window.Count == 0)
                {
                    continue;
                }

                w.WriteStartObject();
                w.WriteString("rule", _rules[rule].Options.Name);
                w.WriteString("tenant", tenant);
                w.WriteString("group", group);
                w.WriteStartArray("entries");
                foreach (var (seq, micros) in window)
                {
                    w.WriteStartArray();
                    w.WriteNumberValue(seq);
                    w.WriteNumberValue(micros);
                    w.WriteEndArray();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Restores windows saved by <see cref="SaveState"/>; windows of rules that no longer exist are dropped.</summary>
    public void LoadState(string? json)
    {
        _windows.Clear();
        if (string.IsNullOrEmpty(json))
        {
            return;
        }

        using var document = JsonDocument.Parse(json);
        foreach (var item in document.RootElement.EnumerateArray())
        {
            var index = _rules.FindIndex(r => r.Options.Name == item.GetProperty("rule").GetString());
            if (index < 0)
            {
                continue;
            }

            var window = new Queue<(long, long)>();
            foreach (var entry in item.GetProperty("entries").EnumerateArray())
            {
                window.Enqueue((entry[0].GetInt64(), entry[1].GetInt64()));
            }

            _windows[(index, item.GetProperty("tenant").GetString()!, item.GetProperty("group").GetString()!)] = window;
        }
    }

    /// <summary>The alert id: a UUID (version 8) from SHA-256 of rule, tenant, group and the first seq of the window.</summary>
    public static Guid AlertId(string rule, string tenant, string group, long firstSeq)
    {
        ArgumentNullException.ThrowIfNull(rule);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"alert\n{rule}\n{tenant}\n{group}\n{firstSeq}")), hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }

    private static AuditEvent Alert(AlertRuleOptions rule, AuditEvent trigger, string tenant, string group, List<long> seqs, DateTimeOffset at)
    {
        var summary = rule.Threshold == 1
            ? $"{trigger.Type} by {trigger.ActorId ?? "unknown"} on {trigger.TargetType} {trigger.TargetId} ({trigger.Severity}, {trigger.Outcome})".Replace("  ", " ", StringComparison.Ordinal)
            : string.Create(CultureInfo.InvariantCulture, $"{seqs.Count} events matching {rule.Name}{(rule.GroupBy is null ? "" : $" from {rule.GroupBy} {group}")} within {Describe(rule.Window)}");
        var info = new AlertInfo(rule.Name, summary, seqs, group);
        var validTarget = group.Length is > 0 and <= 256 && !group.Any(char.IsControl);
        return new AuditEvent
        {
            Id = AlertId(rule.Name, tenant, group, seqs[0]),
            Type = AlertInfo.RaisedType,
            Severity = rule.Severity,
            Category = rule.Kind,
            ActorId = rule.Name,
            ActorType = "alert_rule",
            TargetId = validTarget ? group : null,
            TargetType = validTarget ? rule.GroupBy : null,
            Action = "raise",
            Outcome = "success",
            OccurredAt = at,
            TenantId = tenant.Length == 0 ? null : tenant,
            Source = new EventSource { Service = "auditstream" },
            Metadata = info.ToMetadata(),
        };
    }

    private static string Describe(TimeSpan window) =>
        window.TotalSeconds < 120 ? string.Create(CultureInfo.InvariantCulture, $"{window.TotalSeconds:0.###} s") : string.Create(CultureInfo.InvariantCulture, $"{window.TotalMinutes:0.##} min");

    /// <summary>The value of <paramref name="field"/> as text ("" when absent).</summary>
    internal static string GroupValue(AuditEvent e, string field)
    {
        var value = field switch
        {
            "type" => e.Type,
            "severity" => e.Severity,
            "category" => e.Category,
            "actor_id" => e.ActorId,
            "actor_type" => e.ActorType,
            "target_id" => e.TargetId,
            "target_type" => e.TargetType,
            "action" => e.Action,
            "outcome" => e.Outcome,
            "tenant_id" => e.TenantId,
            "subject_id" => e.SubjectId,
            "source.service" => e.Source?.Service,
            "source.ip" => e.Source?.Ip,
            "source.user_agent" => e.Source?.UserAgent,
            "source.request_id" => e.Source?.RequestId,
            "source.trace_id" => e.Source?.TraceId,
            _ when field.StartsWith("metadata.", StringComparison.Ordinal) => Metadata(e.Metadata, field["metadata.".Length..]),
            _ => null,
        };
        return value ?? "";
    }

    private static string? Metadata(JsonElement? metadata, string path)
    {
        if (metadata is not { } current)
        {
            return null;
        }

        foreach (var key in path.Split('.'))
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(key, out current))
            {
                return null;
            }
        }

        return current.ValueKind switch
        {
            JsonValueKind.String => current.GetString(),
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            _ => current.GetRawText(),
        };
    }

    private void Prune(long nowMicros)
    {
        foreach (var (key, window) in _windows.ToList())
        {
            var oldest = nowMicros - (long)(_rules[key.Rule].Options.Window.Ticks / 10);
            while (window.Count > 0 && window.Peek().Micros <= oldest)
            {
                window.Dequeue();
            }

            if (window.Count == 0)
            {
                _windows.Remove(key);
            }
        }
    }

    private sealed record Rule(AlertRuleOptions Options, CompiledFilter Filter);
}
