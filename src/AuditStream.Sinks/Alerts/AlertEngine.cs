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
/// <remarks>
/// A rule that resolves (<see cref="AlertRuleOptions.AutoResolve"/>) keeps a fired alert open per group. While it is open
/// the group's matches raise nothing new, and a match that brings the window to the threshold again re-triggers it. One
/// full window after the last re-trigger the window holds fewer events than the threshold and none re-triggered it: the
/// alert is resolved. Time is the commit time of the records read (<see cref="Process"/>); a quiet ledger has no records to
/// tell it, so the evaluator also calls <see cref="ResolveDue"/> with the clock once it has read everything committed.
/// </remarks>
public sealed partial class AlertEngine
{
    private const int PruneEvery = 10_000;

    private readonly List<Rule> _rules;
    private readonly Dictionary<(int Rule, string Tenant, string Group), Queue<(long Seq, long Micros)>> _windows = [];
    private readonly Dictionary<(int Rule, string Tenant, string Group), OpenAlert> _open = [];

    // A lower bound of every open alert's deadline (re-triggers only move deadlines later), so most records skip the scan.
    private long _nextDeadline = long.MaxValue;
    private long _processed;

    /// <summary>Compiles <paramref name="rules"/>.</summary>
    public AlertEngine(IEnumerable<AlertRuleOptions> rules, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(rules);
        _rules = [.. rules.Select(r => new Rule(r, r.Filter is null ? CompiledFilter.All : CompiledFilter.Compile(r.Filter.ToStreamFilter(), time)))];
    }

    /// <summary>Alerts raised and not resolved yet.</summary>
    public int OpenAlerts => _open.Count;

    /// <summary>When the earliest open alert resolves unless something re-triggers it first; null when none is open.</summary>
    public DateTimeOffset? NextResolution => _open.Count == 0 ? null : FromMicros(_open.Values.Min(static o => o.DeadlineMicros));

    /// <summary>
    /// Feeds one record; returns the alerts it resolves (each open alert whose quiet window ended by the record's commit time)
    /// followed by the alerts it raises. Usually none.
    /// </summary>
    public IReadOnlyList<AuditEvent> Process(LedgerRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        List<AuditEvent>? alerts = null;
        if (record.TimestampMicros >= _nextDeadline)
        {
            Resolve(record.TimestampMicros, ref alerts);
        }

        var e = record.Event;
        if (AlertInfo.IsAlert(e))
        {
            return alerts ?? (IReadOnlyList<AuditEvent>)[];
        }

        if (++_processed % PruneEvery == 0)
        {
            Prune(record.TimestampMicros);
        }

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

            var windowMicros = WindowMicros(rule.Options);
            while (window.Count > 0 && window.Peek().Micros <= record.TimestampMicros - windowMicros)
            {
                window.Dequeue();
            }

            window.Enqueue((record.Seq, record.TimestampMicros));
            var reached = window.Count >= rule.Options.Threshold;
            if (_open.TryGetValue(key, out var open))
            {
                // Already open: never a second alert for the group. Reaching the threshold again keeps it open a window longer.
                open.Matches++;
                if (reached)
                {
                    open.LastSeq = record.Seq;
                    open.DeadlineMicros = record.TimestampMicros + windowMicros;
                }

                continue;
            }

            if (!reached)
            {
                continue;
            }

            var seqs = window.Select(static w => w.Seq).ToList();
            var alert = Raised(rule.Options, e, tenant, group, seqs, record.Timestamp);
            (alerts ??= []).Add(alert);
            if (rule.Options.Resolves)
            {
                var deadline = record.TimestampMicros + windowMicros;
                _open[key] = new OpenAlert(alert.Id!.Value, seqs[0]) { LastSeq = record.Seq, DeadlineMicros = deadline };
                _nextDeadline = Math.Min(_nextDeadline, deadline);
            }
            else
            {
                window.Clear();
            }
        }

        return alerts ?? (IReadOnlyList<AuditEvent>)[];
    }

    /// <summary>
    /// Resolves the open alerts whose quiet window ended by <paramref name="now"/>. For a ledger with no newer record to tell
    /// the time: call it only when every committed record has been processed.
    /// </summary>
    public IReadOnlyList<AuditEvent> ResolveDue(DateTimeOffset now)
    {
        List<AuditEvent>? alerts = null;
        Resolve(Timestamps.ToMicros(now), ref alerts);
        return alerts ?? (IReadOnlyList<AuditEvent>)[];
    }

    /// <summary>Tells the engine the seq a raised alert it returned was committed at, for the <c>related_seqs</c> of its resolution.</summary>
    public void Committed(Guid alertId, long seq)
    {
        foreach (var open in _open.Values)
        {
            if (open.AlertId == alertId)
            {
                open.AlertSeq = seq;
                return;
            }
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

    /// <summary>
    /// The id of the <c>alert.resolved</c> that ends the alert <see cref="AlertId"/> gives for the same arguments: one
    /// resolution per raised alert, however often it is computed again.
    /// </summary>
    public static Guid ResolvedId(string rule, string tenant, string group, long firstSeq) => AlertId(rule + ":resolved", tenant, group, firstSeq);

    private void Resolve(long nowMicros, ref List<AuditEvent>? alerts)
    {
        var due = _open.Where(o => o.Value.DeadlineMicros <= nowMicros).OrderBy(static o => o.Value.DeadlineMicros).ThenBy(static o => o.Value.FirstSeq).ToList();
        foreach (var ((rule, tenant, group), open) in due)
        {
            _open.Remove((rule, tenant, group));
            (alerts ??= []).Add(Resolved(_rules[rule].Options, tenant, group, open));
        }

        _nextDeadline = _open.Count == 0 ? long.MaxValue : _open.Values.Min(static o => o.DeadlineMicros);
    }

    private static AuditEvent Raised(AlertRuleOptions rule, AuditEvent trigger, string tenant, string group, List<long> seqs, DateTimeOffset at)
    {
        var summary = rule.Threshold == 1
            ? $"{trigger.Type} by {trigger.ActorId ?? "unknown"} on {trigger.TargetType} {trigger.TargetId} ({trigger.Severity}, {trigger.Outcome})".Replace("  ", " ", StringComparison.Ordinal)
            : string.Create(CultureInfo.InvariantCulture, $"{seqs.Count} events matching {rule.Name}{From(rule, group)} within {Describe(rule.Window)}");
        return Alert(AlertInfo.RaisedType, AlertId(rule.Name, tenant, group, seqs[0]), rule, tenant, new AlertInfo(rule.Name, summary, seqs, group), at);
    }

    private static AuditEvent Resolved(AlertRuleOptions rule, string tenant, string group, OpenAlert open)
    {
        var condition = rule.Threshold == 1
            ? "no matching event"
            : string.Create(CultureInfo.InvariantCulture, $"under {rule.Threshold} events");
        var more = open.Matches == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $" ({open.Matches} more matching events while open)");
        var summary = string.Create(CultureInfo.InvariantCulture, $"{rule.Name}{From(rule, group)} resolved: {condition} within {Describe(rule.Window)} since seq {open.LastSeq}{more}");
        List<long> related = open.AlertSeq is { } alertSeq ? [alertSeq, open.LastSeq] : [open.LastSeq];
        var info = new AlertInfo(rule.Name, summary, related, group);
        return Alert(AlertInfo.ResolvedType, ResolvedId(rule.Name, tenant, group, open.FirstSeq), rule, tenant, info, FromMicros(open.DeadlineMicros));
    }

    private static AuditEvent Alert(string type, Guid id, AlertRuleOptions rule, string tenant, AlertInfo info, DateTimeOffset at)
    {
        var group = info.GroupKey;
        var validTarget = group.Length is > 0 and <= 256 && !group.Any(char.IsControl);
        return new AuditEvent
        {
            Id = id,
            Type = type,
            Severity = rule.Severity,
            Category = rule.Kind,
            ActorId = rule.Name,
            ActorType = "alert_rule",
            TargetId = validTarget ? group : null,
            TargetType = validTarget ? rule.GroupBy : null,
            Action = type == AlertInfo.RaisedType ? "raise" : "resolve",
            Outcome = "success",
            OccurredAt = at,
            TenantId = tenant.Length == 0 ? null : tenant,
            Source = new EventSource { Service = "auditstream" },
            Metadata = info.ToMetadata(),
        };
    }

    private static string From(AlertRuleOptions rule, string group) => rule.GroupBy is null ? "" : $" from {rule.GroupBy} {group}";

    private static string Describe(TimeSpan window) =>
        window.TotalSeconds < 120 ? string.Create(CultureInfo.InvariantCulture, $"{window.TotalSeconds:0.###} s") : string.Create(CultureInfo.InvariantCulture, $"{window.TotalMinutes:0.##} min");

    private static long WindowMicros(AlertRuleOptions rule) => rule.Window.Ticks / 10;

    private static DateTimeOffset FromMicros(long micros) => DateTimeOffset.UnixEpoch.AddTicks(micros * 10);

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
            var oldest = nowMicros - WindowMicros(_rules[key.Rule].Options);
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

    /// <summary>A raised alert of one group that is not resolved yet.</summary>
    /// <param name="AlertId">Id of its <c>alert.raised</c>.</param>
    /// <param name="FirstSeq">First seq of the window that raised it (its id and its resolution's id derive from it).</param>
    private sealed record OpenAlert(Guid AlertId, long FirstSeq)
    {
        /// <summary>The last match that brought the window to the threshold (at first: the one that raised it).</summary>
        public long LastSeq { get; set; }

        /// <summary>Commit time (µs) at which it resolves unless re-triggered: the last re-trigger's time plus the window.</summary>
        public long DeadlineMicros { get; set; }

        /// <summary>Matches of the group since it was raised.</summary>
        public long Matches { get; set; }

        /// <summary>Seq of its <c>alert.raised</c> once committed.</summary>
        public long? AlertSeq { get; set; }
    }
}
