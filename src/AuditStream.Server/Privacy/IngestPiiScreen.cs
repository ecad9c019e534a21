using AuditStream.Events;
using AuditStream.Privacy.Detection;
using AuditStream.Server.Api;
using AuditStream.Server.Operations;
using AuditStream.Validation;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Privacy;

/// <summary>
/// Applies each event's tenant policy (<see cref="PiiDetectionOptions"/>) to a request's events before they are
/// prepared, hashed and committed (or forwarded to the leader), so the ledger holds what the policy let through.
/// </summary>
internal sealed class IngestPiiScreen : IDisposable
{
    private readonly IngestMetrics _metrics;
    private readonly IDisposable? _reload;
    private volatile Policies _policies;

    public IngestPiiScreen(IOptionsMonitor<PiiDetectionOptions> options, IngestMetrics metrics)
    {
        _metrics = metrics;
        _policies = new Policies(options.CurrentValue);
        _reload = options.OnChange(o => _policies = new Policies(o));
    }

    /// <summary>
    /// The events the policies let through (<paramref name="events"/> itself when nothing changed); each rejected field is
    /// added to <paramref name="errors"/> at its request position (<paramref name="indexes"/>, when not the array's own).
    /// </summary>
    public AuditEvent[] Screen(AuditEvent[] events, string? tenant, List<ProblemError> errors, int[]? indexes = null)
    {
        var policies = _policies;
        if (policies.AllOff)
        {
            return events;
        }

        AuditEvent[]? screened = null;
        var tally = new PiiTally();
        var rejections = new List<ValidationError>();
        for (var i = 0; i < events.Length; i++)
        {
            var e = events[i];
            var policy = policies.For(e.TenantId ?? tenant ?? "");
            if (policy.IsOff)
            {
                continue;
            }

            rejections.Clear();
            var result = PiiScreen.Apply(e, policy, rejections, tally);
            foreach (var rejection in rejections)
            {
                errors.Add(new ProblemError(indexes?[i] ?? i, rejection.Field, rejection.Rule));
            }

            if (!ReferenceEquals(result, e))
            {
                screened ??= (AuditEvent[])events.Clone();
                screened[i] = result;
            }
        }

        if (!tally.IsEmpty)
        {
            _metrics.PiiDetected(tally);
        }

        return screened ?? events;
    }

    public void Dispose() => _reload?.Dispose();

    private sealed class Policies
    {
        private readonly PiiPolicy _default;
        private readonly Dictionary<string, PiiPolicy> _tenants;

        public Policies(PiiDetectionOptions options)
        {
            _default = options.Resolve(null);
            _tenants = options.Tenants.Keys.ToDictionary(t => t, t => options.Resolve(t), StringComparer.Ordinal);
            AllOff = _default.IsOff && _tenants.Values.All(p => p.IsOff);
        }

        public bool AllOff { get; }

        public PiiPolicy For(string tenant) => _tenants.GetValueOrDefault(tenant, _default);
    }
}
