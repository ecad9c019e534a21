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

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>.</summary>
    public RetentionMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _runs = meter.CreateCounter<long>("audit_retention_runs", description: "Retention runs, by mode (preview, apply).");
        _shredded = meter.CreateCounter<long>("audit_retention_subjects_shredded", description: "Data subjects whose key retention shredded.");
    }

    /// <summary>A run finished; <paramref name="shredded"/> subjects were shredded (0 for a preview).</summary>
    public void Ran(bool apply, int shredded)
    {
        _runs.Add(1, new KeyValuePair<string, object?>("mode", apply ? "apply" : "preview"));
        if (apply)
        {
            _shredded.Add(shredded);
        }
    }
}
