using System.Diagnostics.Metrics;
using AuditStream.Privacy.Detection;

namespace AuditStream.Server.Operations;

/// <summary>
/// Instruments of <c>POST /api/v1/events</c> (meter <see cref="MeterName"/>): events by outcome and events per request.
/// The ingest rate is <c>rate(audit_ingest_events_total{outcome="accepted"}[1m])</c>. Personal data found on ingest is
/// counted by detector and action, never by tenant (like every instrument here: labels name no tenant).
/// </summary>
public sealed class IngestMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "AuditStream.Ingest";

    private static readonly int[] s_batchBuckets = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

    private static readonly PiiAction[] s_piiActions = [PiiAction.Reject, PiiAction.Move, PiiAction.Mask];

    private readonly Histogram<int> _batchEvents;
    private readonly Counter<long> _piiDetections;
    private long _accepted;
    private long _duplicates;
    private long _invalid;
    private long _refused;
    private long _conflicts;

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>.</summary>
    public IngestMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableCounter("audit_ingest_events_total", ObserveEvents, description: "Events received by the ingest API, by outcome (accepted, duplicate, invalid, conflict: an id reused with other content, refused: ledger busy, closed or failing).");
        _batchEvents = meter.CreateHistogram(
            "audit_ingest_batch_events",
            unit: null,
            description: "Events per ingest request.",
            tags: null,
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = s_batchBuckets });
        _piiDetections = meter.CreateCounter<long>(
            "audit_ingest_pii_detections_total",
            unit: null,
            description: "Personal data found in ingested metadata, by detector (email, phone, card, iban, ip) and the action taken (reject, move, mask).");
    }

    /// <summary>Events accepted so far.</summary>
    public long Accepted => Volatile.Read(ref _accepted);

    /// <summary>A request of <paramref name="events"/> events arrived.</summary>
    public void Request(int events) => _batchEvents.Record(events);

    /// <summary>Events of one request were committed: <paramref name="accepted"/> new, <paramref name="duplicates"/> already in the ledger.</summary>
    public void Committed(int accepted, int duplicates)
    {
        Interlocked.Add(ref _accepted, accepted);
        Interlocked.Add(ref _duplicates, duplicates);
    }

    /// <summary>A request of <paramref name="events"/> events was refused as invalid.</summary>
    public void Invalid(int events) => Interlocked.Add(ref _invalid, events);

    /// <summary>A request of <paramref name="events"/> events was refused because the ledger was busy, closed or failing.</summary>
    public void Refused(int events) => Interlocked.Add(ref _refused, events);

    /// <summary>A request of <paramref name="events"/> events was refused because an id was reused with other content.</summary>
    public void Conflicted(int events) => Interlocked.Add(ref _conflicts, events);

    /// <summary>The detections of one request's screening.</summary>
    public void PiiDetected(PiiTally tally)
    {
        ArgumentNullException.ThrowIfNull(tally);
        foreach (var kind in PiiKinds.All)
        {
            foreach (var action in s_piiActions)
            {
                if (tally[kind, action] is var count and > 0)
                {
                    _piiDetections.Add(count, new KeyValuePair<string, object?>("detector", PiiKinds.Name(kind)), new KeyValuePair<string, object?>("action", ActionName(action)));
                }
            }
        }
    }

    private static string ActionName(PiiAction action) => action switch
    {
        PiiAction.Reject => "reject",
        PiiAction.Move => "move",
        _ => "mask",
    };

    private IEnumerable<Measurement<long>> ObserveEvents() =>
    [
        new(Volatile.Read(ref _accepted), new KeyValuePair<string, object?>("outcome", "accepted")),
        new(Volatile.Read(ref _duplicates), new KeyValuePair<string, object?>("outcome", "duplicate")),
        new(Volatile.Read(ref _invalid), new KeyValuePair<string, object?>("outcome", "invalid")),
        new(Volatile.Read(ref _refused), new KeyValuePair<string, object?>("outcome", "refused")),
        new(Volatile.Read(ref _conflicts), new KeyValuePair<string, object?>("outcome", "conflict")),
    ];
}
