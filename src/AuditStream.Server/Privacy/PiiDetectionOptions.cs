using System.ComponentModel.DataAnnotations;
using AuditStream.Privacy.Detection;

namespace AuditStream.Server.Privacy;

/// <summary>
/// Personal-data detection on ingest (docs/privacy.md): what each detector does with what it finds in <c>metadata</c>,
/// by default and per tenant. For a tenant and a detector the first that is set wins: the tenant's
/// <c>Detectors:&lt;name&gt;</c>, the tenant's <c>Action</c>, the default's <c>Detectors:&lt;name&gt;</c>, the default's
/// <c>Action</c>; otherwise <c>off</c>. Reloaded when the configuration changes.
/// </summary>
public sealed class PiiDetectionOptions : IValidatableObject
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "AuditStream:PiiDetection";

    /// <summary>The policy of every tenant without an entry in <see cref="Tenants"/>.</summary>
    /// <value>Default: every detector off.</value>
    public PiiPolicyOptions Default { get; set; } = new();

    /// <summary>Overrides by tenant id (exact, case-sensitive); the empty key is events without a tenant.</summary>
    public Dictionary<string, PiiPolicyOptions> Tenants { get; set; } = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (scope, policy) in Tenants.Select(t => ($"Tenants:{t.Key}", t.Value)).Prepend(("Default", Default)))
        {
            foreach (var name in policy.Detectors.Keys.Where(n => !PiiKinds.TryParse(n, out _)))
            {
                yield return new ValidationResult(
                    $"{scope}:Detectors:{name} is not a detector (email, phone, card, iban, ip).", [nameof(Tenants)]);
            }
        }
    }

    /// <summary>The policy of <paramref name="tenant"/> resolved over the default (null: the default itself).</summary>
    internal PiiPolicy Resolve(string? tenant)
    {
        var own = tenant is null ? null : Tenants.GetValueOrDefault(tenant);
        return new PiiPolicy(PiiKinds.All.ToDictionary(k => k, k => own?.For(k) ?? own?.Action ?? Default.For(k) ?? Default.Action ?? PiiAction.Off));
    }
}

/// <summary>One policy: an action for every detector, and optionally one per detector.</summary>
public sealed class PiiPolicyOptions
{
    /// <summary><c>off</c>, <c>reject</c>, <c>move</c> or <c>mask</c> for every detector not named in <see cref="Detectors"/>.</summary>
    /// <value>Default: unset (the default policy's, or off).</value>
    public PiiAction? Action { get; set; }

    /// <summary>Actions by detector name: <c>email</c>, <c>phone</c>, <c>card</c>, <c>iban</c>, <c>ip</c>.</summary>
    public Dictionary<string, PiiAction> Detectors { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    internal PiiAction? For(PiiKind kind) => Detectors.TryGetValue(PiiKinds.Name(kind), out var action) ? action : null;
}
