using System.ComponentModel.DataAnnotations;
using AuditStream.Sinks.Runtime;

namespace AuditStream.Sinks.Datadog;

/// <summary>The Datadog sink: Logs intake v2 (<c>POST /api/v2/logs</c>, gzip, <c>DD-API-KEY</c>).</summary>
public sealed class DatadogOptions : SinkOptions
{
    /// <summary>Creates the options with this sink's defaults.</summary>
    public DatadogOptions() => MaxBatchSize = MaxEntriesPerRequest;

    /// <summary>Datadog's documented limit of log entries in one request.</summary>
    public const int MaxEntriesPerRequest = 1000;

    /// <summary>The sink's name (keys its position and dead letters).</summary>
    /// <value>Default <c>datadog</c>.</value>
    [Required]
    public string Name { get; set; } = "datadog";

    /// <summary>API key (<c>DATADOG_API_KEY</c>), sent as <c>DD-API-KEY</c>. Never logged.</summary>
    /// <value>Required when enabled.</value>
    public string? ApiKey { get; set; }

    /// <summary>Datadog site (<c>DATADOG_SITE</c>): <c>datadoghq.com</c>, <c>datadoghq.eu</c>, <c>us3.datadoghq.com</c>…; the intake is <c>https://http-intake.logs.{site}/api/v2/logs</c>.</summary>
    /// <value>Default <c>datadoghq.com</c>.</value>
    [Required]
    public string Site { get; set; } = "datadoghq.com";

    /// <summary>Full intake URL (<c>DATADOG_URL</c>), for a proxy or a test; wins over <see cref="Site"/>.</summary>
    /// <value>Default none.</value>
    public Uri? Url { get; set; }

    /// <summary><c>service</c> of every log.</summary>
    /// <value>Default <c>auditstream</c>.</value>
    [Required]
    public string Service { get; set; } = "auditstream";

    /// <summary><c>ddsource</c> of every log.</summary>
    /// <value>Default <c>auditstream</c>.</value>
    [Required]
    public string Source { get; set; } = "auditstream";

    /// <summary><c>hostname</c> of every log (<c>HOSTNAME</c>).</summary>
    /// <value>Default the machine name.</value>
    public string? Hostname { get; set; }

    /// <summary>Extra tags added to <c>ddtags</c> of every log, e.g. <c>env:prod</c>.</summary>
    /// <value>Default none.</value>
    public IList<string> Tags { get; set; } = [];

    /// <summary>The intake endpoint in use.</summary>
    public Uri Endpoint => Url ?? new Uri($"https://http-intake.logs.{Site}/api/v2/logs");
}
