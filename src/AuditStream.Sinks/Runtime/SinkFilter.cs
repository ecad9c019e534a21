using AuditStream.Filters;

namespace AuditStream.Sinks.Runtime;

/// <summary>
/// The stream filter of DESIGN.md §5 in configuration form (every list OR within itself, AND across fields; empty matches
/// all). A time range makes no sense for a forwarder and is not offered.
/// </summary>
public sealed class SinkFilter
{
    /// <summary>Exact event types or prefixes like <c>auth.*</c>.</summary>
    public IList<string> EventTypes { get; set; } = [];

    /// <summary><c>critical</c>, <c>error</c>, <c>warning</c>, <c>info</c>.</summary>
    public IList<string> Severities { get; set; } = [];

    /// <summary>Exact categories.</summary>
    public IList<string> Categories { get; set; } = [];

    /// <summary>Exact actor ids.</summary>
    public IList<string> ActorIds { get; set; } = [];

    /// <summary>Exact target ids.</summary>
    public IList<string> TargetIds { get; set; } = [];

    /// <summary>Only events with a compliance tag or category <c>compliance</c>.</summary>
    public bool ComplianceOnly { get; set; }

    /// <summary>Only security events (category <c>security</c>, types under <c>auth.</c> and <c>security.</c>).</summary>
    public bool SecurityOnly { get; set; }

    /// <summary>Conditions on any field (<c>metadata.*</c> included), all of which must hold.</summary>
    public IList<SinkMatch> Match { get; set; } = [];

    /// <summary>The same filter as a <see cref="StreamFilter"/>.</summary>
    public StreamFilter ToStreamFilter() => new()
    {
        EventTypes = [.. EventTypes],
        Severities = [.. Severities],
        Categories = [.. Categories],
        ActorIds = [.. ActorIds],
        TargetIds = [.. TargetIds],
        ComplianceOnly = ComplianceOnly,
        SecurityOnly = SecurityOnly,
        Match = [.. Match.Select(static m => m.Values.Count > 0
            ? MatchPredicate.In(m.Field ?? "", [.. m.Values])
            : MatchPredicate.Create(m.Field ?? "", m.Op ?? "", m.Value))],
    };
}

/// <summary>One <c>{field, op, value}</c> condition of a <see cref="SinkFilter"/>.</summary>
public sealed class SinkMatch
{
    /// <summary>An event field, <c>source.&lt;name&gt;</c> or <c>metadata.&lt;path&gt;</c>.</summary>
    public string? Field { get; set; }

    /// <summary><c>eq</c>, <c>neq</c>, <c>prefix</c>, <c>exists</c>, <c>gt</c>, <c>lt</c> (or <c>in</c> with <see cref="Values"/>).</summary>
    public string? Op { get; set; }

    /// <summary>The value compared with (a string).</summary>
    public string? Value { get; set; }

    /// <summary>For <c>in</c>: the accepted values.</summary>
    public IList<string> Values { get; set; } = [];
}
