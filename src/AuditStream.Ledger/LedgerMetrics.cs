using System.Diagnostics.Metrics;
using AuditStream.Ledger.Checkpoints;
using AuditStream.Ledger.Writing;

namespace AuditStream.Ledger;

/// <summary>
/// The ledger's instruments (System.Diagnostics.Metrics, meter <see cref="MeterName"/>): commit latency, batch sizes,
/// events appended, tree size, queued events, last checkpoint age and errors. Names are already Prometheus names, so any
/// exporter (the server uses OpenTelemetry's) shows them unchanged. Counters are observed from plain fields, so the
/// writer pays one <see cref="Interlocked"/> add per commit, listener or not.
/// </summary>
public sealed class LedgerMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "AuditStream.Ledger";

    // Commit latency of a local SQLite transaction is 0.1 ms to tens of ms; slow disks show up past 0.1 s.
    private static readonly double[] s_commitBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private static readonly int[] s_batchBuckets = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Histogram<double> _commitDuration;
    private readonly Histogram<int> _batchEvents;
    private long _appended;
    private long _commits;
    private long _commitErrors;
    private long _checkpointErrors;
    private Source? _source;

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/> (or a meter of its own when null).</summary>
    public LedgerMetrics(IMeterFactory? meterFactory = null)
    {
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _commitDuration = _meter.CreateHistogram(
            "audit_ledger_commit_duration_seconds",
            unit: "s",
            description: "Time of one group commit (one transaction, one fsync) of the ledger writer.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_commitBuckets });
        _batchEvents = _meter.CreateHistogram(
            "audit_ledger_batch_events",
            unit: null,
            description: "Events per group commit of the ledger writer.",
            tags: null,
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = s_batchBuckets });
        _meter.CreateObservableCounter("audit_ledger_events_appended_total", () => Volatile.Read(ref _appended), description: "Events appended to the ledger (duplicates of earlier ids not counted).");
        _meter.CreateObservableCounter("audit_ledger_commits_total", () => Volatile.Read(ref _commits), description: "Group commits of the ledger writer.");
        _meter.CreateObservableCounter("audit_ledger_commit_errors_total", () => Volatile.Read(ref _commitErrors), description: "Group commits that failed; their requests were refused and nothing was written.");
        _meter.CreateObservableCounter("audit_ledger_checkpoint_errors_total", () => Volatile.Read(ref _checkpointErrors), description: "Checkpoint signings that failed (retried at the next interval).");
        _meter.CreateObservableGauge("audit_ledger_tree_size", ObserveTreeSize, description: "Events in the ledger (the Merkle tree size).");
        _meter.CreateObservableGauge("audit_ledger_queued_events", ObserveQueued, description: "Events accepted and waiting for the writer.");
        _meter.CreateObservableGauge("audit_ledger_checkpoint_age_seconds", ObserveCheckpointAge, unit: "s", description: "Seconds since the latest signed checkpoint.");
        _meter.CreateObservableGauge("audit_ledger_checkpoint_tree_size", ObserveCheckpointSize, description: "Tree size covered by the latest signed checkpoint.");
    }

    /// <summary>Events appended so far (duplicates excluded).</summary>
    public long EventsAppended => Volatile.Read(ref _appended);

    /// <summary>Commits that failed so far.</summary>
    public long CommitErrors => Volatile.Read(ref _commitErrors);

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    /// <summary>Records one group commit of <paramref name="batchEvents"/> events of which <paramref name="appended"/> were new.</summary>
    internal void Committed(int batchEvents, int appended, TimeSpan elapsed)
    {
        Interlocked.Increment(ref _commits);
        Interlocked.Add(ref _appended, appended);
        _commitDuration.Record(elapsed.TotalSeconds);
        _batchEvents.Record(batchEvents);
    }

    internal void CommitFailed() => Interlocked.Increment(ref _commitErrors);

    internal void CheckpointFailed() => Interlocked.Increment(ref _checkpointErrors);

    /// <summary>Points the gauges at an open ledger's writer and checkpoints; <see cref="Detach"/> when it closes.</summary>
    internal void Attach(LedgerWriter writer, CheckpointPublisher checkpoints, TimeProvider time) =>
        Volatile.Write(ref _source, new Source(writer, checkpoints, time));

    internal void Detach(LedgerWriter writer)
    {
        if (Volatile.Read(ref _source) is { } source && source.Writer == writer)
        {
            Interlocked.CompareExchange(ref _source, null, source);
        }
    }

    private IEnumerable<Measurement<long>> ObserveTreeSize() =>
        Volatile.Read(ref _source) is { } s ? [new Measurement<long>(s.Writer.Head.Size)] : [];

    private IEnumerable<Measurement<long>> ObserveQueued() =>
        Volatile.Read(ref _source) is { } s ? [new Measurement<long>(s.Writer.QueuedEvents)] : [];

    private IEnumerable<Measurement<long>> ObserveCheckpointSize() =>
        Volatile.Read(ref _source)?.Checkpoints.Latest is { } latest ? [new Measurement<long>(latest.TreeSize)] : [];

    private IEnumerable<Measurement<double>> ObserveCheckpointAge()
    {
        if (Volatile.Read(ref _source) is not { } s || s.Checkpoints.Latest is not { } latest)
        {
            return [];
        }

        var age = s.Time.GetUtcNow() - DateTimeOffset.UnixEpoch.AddTicks(latest.CreatedAtMicros * 10);
        return [new Measurement<double>(Math.Max(0, age.TotalSeconds))];
    }

    private sealed record Source(LedgerWriter Writer, CheckpointPublisher Checkpoints, TimeProvider Time);
}
