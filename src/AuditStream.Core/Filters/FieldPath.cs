namespace AuditStream.Filters;

/// <summary>A resolved <see cref="MatchPredicate.Field"/>: the event field and, under <c>metadata</c>, the keys below it.</summary>
internal readonly record struct FieldPath(EventField Field, string[] MetadataKeys)
{
    public const string UnknownFieldRule = "must be an event field (type, severity, category, actor_id, …), source.<name> or metadata.<path>";
    public const string PiiRule = "cannot be filtered on: pii is personal data that is masked for most roles";

    private static readonly Dictionary<string, EventField> s_fields = new(StringComparer.Ordinal)
    {
        ["id"] = EventField.Id,
        ["type"] = EventField.Type,
        ["severity"] = EventField.Severity,
        ["category"] = EventField.Category,
        ["actor_id"] = EventField.ActorId,
        ["actor_type"] = EventField.ActorType,
        ["target_id"] = EventField.TargetId,
        ["target_type"] = EventField.TargetType,
        ["action"] = EventField.Action,
        ["outcome"] = EventField.Outcome,
        ["occurred_at"] = EventField.OccurredAt,
        ["tenant_id"] = EventField.TenantId,
        ["subject_id"] = EventField.SubjectId,
        ["seq"] = EventField.Seq,
        ["timestamp"] = EventField.Timestamp,
        ["prev_hash"] = EventField.PrevHash,
        ["hash"] = EventField.Hash,
        ["compliance"] = EventField.Compliance,
        ["source"] = EventField.Source,
        ["source.service"] = EventField.SourceService,
        ["source.ip"] = EventField.SourceIp,
        ["source.user_agent"] = EventField.SourceUserAgent,
        ["source.request_id"] = EventField.SourceRequestId,
        ["source.trace_id"] = EventField.SourceTraceId,
        ["metadata"] = EventField.Metadata,
    };

    /// <summary>Resolves <paramref name="path"/>, or returns the rule it breaks.</summary>
    public static bool TryParse(string path, out FieldPath result, out string? rule)
    {
        result = default;
        rule = null;
        if (path == "pii" || path.StartsWith("pii.", StringComparison.Ordinal))
        {
            rule = PiiRule;
            return false;
        }

        if (s_fields.TryGetValue(path, out var field))
        {
            result = new(field, []);
            return true;
        }

        if (path.StartsWith("metadata.", StringComparison.Ordinal))
        {
            var keys = path["metadata.".Length..].Split('.');
            if (Array.IndexOf(keys, "") < 0)
            {
                result = new(EventField.Metadata, keys);
                return true;
            }
        }

        rule = UnknownFieldRule;
        return false;
    }
}
