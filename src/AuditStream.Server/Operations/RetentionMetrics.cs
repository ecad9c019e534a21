using System.Diagnostics.Metrics;

namespace AuditStream.Server.Operations;

/// <summary>
/// Instruments of retention (meter <see cref="MeterName"/>): runs by mode and subjects shredded. No tenant label: the
/// counts of one tenant are not shown beside another's.
/// </summary>
public sealed class RetentionMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "AuditStream.Retention";

    private readonly Counter<long> _runs;
    private readonly Counter<long> _shredded;
    private readonly Counter<long> _events;
    private readonly Counter<long> _scheduled;

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>.</summary>
    public RetentionMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _runs = meter.CreateCounter<long>("audit_retention_runs", description: "Retention runs, by mode (preview, apply).");
        _shredded = meter.CreateCounter<long>("audit_retention_subjects_shredded", description: "Data subjects whose key retention shredded.");
        _events = meter.CreateCounter<long>("audit_retention_events_shredded", description: "Events whose personal data retention shredded (their subjects' keys destroyed).");
        _scheduled = meter.CreateCounter<long>("audit_retention_scheduled_runs", description: "Ticks of the retention schedule, by outcome (applied, follower, failed).");
    }

    /// <summary>A run finished: <paramref name="result"/> says what it shredded (nothing for a preview).</summary>
    public void Ran(AuditStream.Ledger.Privacy.RetentionResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        _runs.Add(1, new KeyValuePair<string, object?>("mode", result.Applied ? "apply" : "preview"));
        if (result.Applied)
        {
            _shredded.Add(result.Subjects.Count);
            _events.Add(result.Events.Sum(e => e.Events));
        }
    }

    /// <summary>A tick of the schedule: <c>applied</c> (a run, counted by <see cref="Ran"/> too), <c>follower</c> (not the leader: skipped) or <c>failed</c>.</summary>
    public void Scheduled(string outcome) => _scheduled.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
}
