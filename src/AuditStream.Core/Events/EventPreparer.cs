using AuditStream.Canonical;
using AuditStream.Classification;
using AuditStream.Privacy;
using AuditStream.Validation;

namespace AuditStream.Events;

/// <summary>
/// What happens to an event on the producer's thread before it reaches the ledger writer: validation, defaults
/// (id, tenant), compliance classification and canonicalization (DESIGN.md §4: the writer only chains and inserts).
/// </summary>
public sealed class EventPreparer
{
    private readonly EventValidator _validator;
    private readonly ComplianceClassifier _classifier;
    private readonly int _maxEventBytes;

    /// <summary>Creates a preparer with the default rules.</summary>
    public EventPreparer()
        : this(new ValidationOptions(), new ClassifierOptions(), TimeProvider.System)
    {
    }

    /// <summary>Creates a preparer with the given validation limits and classification rules.</summary>
    public EventPreparer(ValidationOptions validation, ClassifierOptions classification, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentNullException.ThrowIfNull(classification);
        _validator = new EventValidator(validation, timeProvider);
        _classifier = new ComplianceClassifier(classification);
        _maxEventBytes = validation.MaxEventBytes;
    }

    /// <summary>
    /// Prepares <paramref name="e"/> for appending, or returns null and adds every broken rule to <paramref name="errors"/>.
    /// <paramref name="defaultTenant"/> (the producer's tenant) is used when the event names none.
    /// </summary>
    public PreparedEvent? Prepare(AuditEvent e, string? defaultTenant, List<ValidationError> errors) => Prepare(e, defaultTenant, errors, keys: null);

    /// <summary>
    /// Prepares <paramref name="e"/> like <see cref="Prepare(AuditEvent, string?, List{ValidationError})"/> and, when
    /// <paramref name="keys"/> is given, replaces <c>pii</c> by its envelope under the subject's data key, so the ledger
    /// stores and hashes only ciphertext (DESIGN.md §4).
    /// </summary>
    public PreparedEvent? Prepare(AuditEvent e, string? defaultTenant, List<ValidationError> errors, ISubjectKeys? keys)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(errors);

        // The size rule is checked on the canonical form below, the form that is stored and hashed.
        if (!_validator.Validate(e, serializedLength: 0, errors))
        {
            return null;
        }

        var complete = e with
        {
            Id = e.Id ?? Guid.CreateVersion7(),
            TenantId = e.TenantId ?? defaultTenant,
            Compliance = _classifier.Classify(e),
        };
        if (keys is not null && complete.Pii is { } pii && complete.SubjectId is { } subject)
        {
            var key = keys.GetOrCreate(complete.TenantId ?? "", subject);
            complete = complete with { Pii = PiiEnvelope.Seal(key, pii, complete.Id!.Value) };
        }

        PreparedEvent prepared;
        try
        {
            prepared = EventCanonicalizer.Prepare(complete, idSuppliedByProducer: e.Id is not null);
        }
        catch (JsonCanonicalizationException ex)
        {
            // The validator names the paths it knows; anything else without a canonical form is still bad input, never a 500.
            errors.Add(new ValidationError("event", $"has no canonical form (RFC 8785): {ex.Message}"));
            return null;
        }

        if (prepared.MaxBodyLength > _maxEventBytes)
        {
            errors.Add(new ValidationError("event", $"must be at most {_maxEventBytes} bytes serialized (was {prepared.MaxBodyLength} with the ledger fields)"));
            return null;
        }

        return prepared;
    }
}
