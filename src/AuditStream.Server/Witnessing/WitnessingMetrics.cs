using System.Diagnostics.Metrics;

namespace AuditStream.Server.Witnessing;

/// <summary>
/// Per-witness instruments (meter <see cref="MeterName"/>), observed from <see cref="WitnessStatus"/> on each scrape:
/// submissions, failures, the cosigned size and the lag behind the latest checkpoint, and a split-view flag. The
/// <c>witness</c> label is the cosigner name from configuration.
/// </summary>
internal sealed class WitnessingMetrics
{
    public const string MeterName = "AuditStream.Witnessing";

    public WitnessingMetrics(IMeterFactory meterFactory, CheckpointWitnessing witnessing)
    {
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableCounter("audit_witness_submissions_total", () => Observe(witnessing, s => s.Submitted), description: "add-checkpoint requests sent to the witness.");
        meter.CreateObservableCounter("audit_witness_failures_total", () => Observe(witnessing, s => s.Failed), description: "Submissions that ended without a cosignature (unreachable, timeout, refusal, invalid cosignature, split view).");
        meter.CreateObservableGauge("audit_witness_cosigned_tree_size", () => Observe(witnessing, s => s.CosignedSize), description: "The largest tree size the witness cosigned.");
        meter.CreateObservableGauge("audit_witness_lag_events", () => Observe(witnessing, s => Math.Max(0, witnessing.LatestSize - s.CosignedSize)), description: "Events in the latest checkpoint that the witness has not cosigned yet.");
        meter.CreateObservableGauge("audit_witness_split_view", () => Observe(witnessing, s => s.SplitView is null ? 0 : 1), description: "1 once the witness refused a checkpoint as inconsistent with a tree it saw before (split view): alert on it.");
        meter.CreateObservableGauge("audit_witness_witnessed_tree_size", () => witnessing.Cosigned.WitnessedSize, description: "Tree size of the latest checkpoint cosigned by the quorum of witnesses.");
    }

    private static IEnumerable<Measurement<long>> Observe(CheckpointWitnessing witnessing, Func<WitnessStatus, long> value)
    {
        foreach (var status in witnessing.Statuses)
        {
            yield return new Measurement<long>(value(status), new KeyValuePair<string, object?>("witness", status.Name));
        }
    }
}
