using System.Buffers;
using System.Text;
using System.Text.Json;

namespace AuditStream.Sinks.Alerts;

/// <summary>Saving and restoring the engine's windows and open alerts (the evaluator keeps them in <c>sinks.db</c>).</summary>
public sealed partial class AlertEngine
{
    /// <summary>The windows and open alerts as JSON, saved with the evaluator's position.</summary>
    public string SaveState()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("windows");
            foreach (var ((rule, tenant, group), window) in _windows)
            {
                if (window.Count == 0)
                {
                    continue;
                }

                w.WriteStartObject();
                WriteKey(w, rule, tenant, group);
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
            w.WriteStartArray("open");
            foreach (var ((rule, tenant, group), open) in _open)
            {
                w.WriteStartObject();
                WriteKey(w, rule, tenant, group);
                w.WriteString("alert_id", open.AlertId);
                w.WriteNumber("first_seq", open.FirstSeq);
                w.WriteNumber("last_seq", open.LastSeq);
                w.WriteNumber("deadline_micros", open.DeadlineMicros);
                w.WriteNumber("matches", open.Matches);
                if (open.AlertSeq is { } alertSeq)
                {
                    w.WriteNumber("alert_seq", alertSeq);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// Restores what <see cref="SaveState"/> saved (or the bare array of windows older versions saved). Windows and open
    /// alerts of rules that no longer exist are dropped: such an alert is never resolved.
    /// </summary>
    public void LoadState(string? json)
    {
        _windows.Clear();
        _open.Clear();
        _nextDeadline = long.MaxValue;
        if (string.IsNullOrEmpty(json))
        {
            return;
        }

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var windows = root.ValueKind == JsonValueKind.Array ? root : root.GetProperty("windows");
        foreach (var item in windows.EnumerateArray())
        {
            if (ReadKey(item) is not { } key)
            {
                continue;
            }

            var window = new Queue<(long, long)>();
            foreach (var entry in item.GetProperty("entries").EnumerateArray())
            {
                window.Enqueue((entry[0].GetInt64(), entry[1].GetInt64()));
            }

            _windows[key] = window;
        }

        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("open", out var open))
        {
            return;
        }

        foreach (var item in open.EnumerateArray())
        {
            if (ReadKey(item) is not { } key)
            {
                continue;
            }

            var alert = new OpenAlert(item.GetProperty("alert_id").GetGuid(), item.GetProperty("first_seq").GetInt64())
            {
                LastSeq = item.GetProperty("last_seq").GetInt64(),
                DeadlineMicros = item.GetProperty("deadline_micros").GetInt64(),
                Matches = item.GetProperty("matches").GetInt64(),
                AlertSeq = item.TryGetProperty("alert_seq", out var alertSeq) ? alertSeq.GetInt64() : null,
            };
            _open[key] = alert;
            _nextDeadline = Math.Min(_nextDeadline, alert.DeadlineMicros);
        }
    }

    private void WriteKey(Utf8JsonWriter w, int rule, string tenant, string group)
    {
        w.WriteString("rule", _rules[rule].Options.Name);
        w.WriteString("tenant", tenant);
        w.WriteString("group", group);
    }

    private (int Rule, string Tenant, string Group)? ReadKey(JsonElement item)
    {
        var index = _rules.FindIndex(r => r.Options.Name == item.GetProperty("rule").GetString());
        return index < 0 ? null : (index, item.GetProperty("tenant").GetString()!, item.GetProperty("group").GetString()!);
    }
}
