namespace AuditStream.Server.Tests.Operations;

/// <summary>
/// Tests that read process-wide state — meters (OpenTelemetry listens to every meter of a name in the process) or the
/// live heap — so they run alone, with no other test's server counting into the same instruments or heap.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessMetrics
{
    public const string Name = "Process-wide metrics";
}
