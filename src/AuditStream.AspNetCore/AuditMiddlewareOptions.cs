namespace AuditStream.AspNetCore;

/// <summary>What <c>UseAuditStream()</c> records, bound from the <c>AuditStream:Middleware</c> configuration section.</summary>
public sealed class AuditMiddlewareOptions
{
    /// <summary>The configuration section <c>AddAuditStream(configuration)</c> binds.</summary>
    public const string SectionName = "AuditStream:Middleware";

    /// <summary>Path prefixes to record (case-insensitive); empty records every path not excluded.</summary>
    /// <value>Default: empty.</value>
    public IList<string> IncludePaths { get; } = [];

    /// <summary>Path prefixes never recorded (health probes, metrics, static files).</summary>
    /// <value>Default: empty.</value>
    public IList<string> ExcludePaths { get; } = [];

    /// <summary>HTTP methods never recorded.</summary>
    /// <value>Default: <c>OPTIONS</c>, <c>HEAD</c>.</value>
    public IList<string> ExcludeMethods { get; } = ["OPTIONS", "HEAD"];

    /// <summary>Status classes never recorded, as their first digit (<c>3</c> leaves out redirects).</summary>
    /// <value>Default: empty.</value>
    public IList<int> ExcludeStatusClasses { get; } = [];

    /// <summary>
    /// The share of successful requests (status below 400, no exception) recorded, from 0 to 1. Failures and
    /// endpoints marked <see cref="AuditedAttribute"/> are always recorded.
    /// </summary>
    /// <value>Default: 1 (every request).</value>
    public double SamplingRate { get; set; } = 1.0;

    /// <summary>Include an exception's stack trace in <c>metadata.exception_stack</c> (it may reveal internals).</summary>
    /// <value>Default: false (type and message only).</value>
    public bool RecordStackTraces { get; set; }

    /// <summary>The event type of request events.</summary>
    /// <value>Default: <c>http.request</c>.</value>
    public string EventType { get; set; } = "http.request";

    /// <summary>The category of request events.</summary>
    /// <value>Default: <c>http</c>.</value>
    public string Category { get; set; } = "http";

    /// <summary><c>source.service</c> of every event.</summary>
    /// <value>Default: the application name.</value>
    public string? ServiceName { get; set; }
}
