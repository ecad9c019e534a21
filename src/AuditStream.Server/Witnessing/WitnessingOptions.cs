using System.ComponentModel.DataAnnotations;
using AuditStream.Checkpoints;

namespace AuditStream.Server.Witnessing;

/// <summary>
/// The witnesses the server submits its checkpoints to (c2sp.org/tlog-witness), bound from <c>AuditStream:Witnessing</c>.
/// With no witnesses configured nothing is submitted and the checkpoint endpoints serve the server's signature alone.
/// </summary>
public sealed class WitnessingOptions : IValidatableObject
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "AuditStream:Witnessing";

    /// <summary>The witnesses, each a submission URL and its cosigner key.</summary>
    public List<WitnessEndpointOptions> Witnesses { get; set; } = [];

    /// <summary>
    /// How many distinct witnesses must cosign a checkpoint before it counts as witnessed
    /// (<c>/api/v1/ledger/checkpoint/witnessed</c>, <c>/ready</c>); 0 means all of them.
    /// </summary>
    /// <value>Default 0 (all configured witnesses).</value>
    [Range(0, 100)]
    public int Quorum { get; set; }

    /// <summary>How long one add-checkpoint request may take before it counts as failed.</summary>
    /// <value>Default 10 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00", ErrorMessage = "must be between 00:00:00.100 and 00:05:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The first wait after a failed submission; it doubles after each further failure, up to <see cref="MaxRetryDelay"/>.</summary>
    /// <value>Default 1 second.</value>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00", ErrorMessage = "must be between 00:00:00.010 and 01:00:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between retries of an unreachable or failing witness.</summary>
    /// <value>Default 1 minute.</value>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00", ErrorMessage = "must be between 00:00:00.010 and 01:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The quorum in force: <see cref="Quorum"/>, or every witness when it is 0.</summary>
    public int EffectiveQuorum => Quorum == 0 ? Witnesses.Count : Quorum;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Quorum > Witnesses.Count)
        {
            yield return new ValidationResult($"must be at most the number of witnesses ({Witnesses.Count})", [nameof(Quorum)]);
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Witnesses.Count; i++)
        {
            var witness = Witnesses[i];
            var key = $"{nameof(Witnesses)}:{i}";
            if (!Uri.TryCreate(witness.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            {
                yield return new ValidationResult("must be an absolute http or https URL (the witness's submission prefix)", [$"{key}:{nameof(WitnessEndpointOptions.Url)}"]);
            }

            if (!CosignatureVerifier.TryParse(witness.PublicKey, out var verifier, out var error))
            {
                yield return new ValidationResult($"must be the witness's cosigner key name+id+base64(0x04 ‖ key): {error}", [$"{key}:{nameof(WitnessEndpointOptions.PublicKey)}"]);
                continue;
            }

            if (witness.Name is { } name && !string.Equals(name, verifier.Name, StringComparison.Ordinal))
            {
                yield return new ValidationResult($"must equal the name in the witness's key ('{verifier.Name}') or be left out", [$"{key}:{nameof(WitnessEndpointOptions.Name)}"]);
            }

            if (!names.Add(verifier.Name))
            {
                yield return new ValidationResult($"witness '{verifier.Name}' is configured twice", [$"{key}:{nameof(WitnessEndpointOptions.PublicKey)}"]);
            }
        }
    }
}

/// <summary>One witness.</summary>
public sealed class WitnessEndpointOptions
{
    /// <summary>The witness's submission prefix; the server POSTs to <c>{Url}/add-checkpoint</c>.</summary>
    public string Url { get; set; } = "";

    /// <summary>The witness's cosigner name; optional, must equal the name in <see cref="PublicKey"/>.</summary>
    public string? Name { get; set; }

    /// <summary>The witness's cosigner verifier key (what <c>auditstream witness</c> prints as "cosigner key").</summary>
    public string PublicKey { get; set; } = "";
}
