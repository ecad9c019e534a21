using System.ComponentModel.DataAnnotations;
using AuditStream.Sinks.Runtime;

namespace AuditStream.Sinks.Elasticsearch;

/// <summary>The Elasticsearch / OpenSearch sink: <c>_bulk</c> over HTTP with the event id as the document <c>_id</c>.</summary>
public sealed class ElasticsearchOptions : SinkOptions
{
    /// <summary>Creates the options with this sink's defaults.</summary>
    public ElasticsearchOptions() => MaxBatchSize = 1000;

    /// <summary>The sink's name (keys its position and dead letters).</summary>
    /// <value>Default <c>elasticsearch</c>.</value>
    [Required]
    public string Name { get; set; } = "elasticsearch";

    /// <summary>Cluster nodes (<c>ELASTICSEARCH_NODES</c>, comma-separated); the sink moves to the next one after a failure.</summary>
    /// <value>Required when enabled.</value>
    public IList<Uri> Nodes { get; set; } = [];

    /// <summary>
    /// Index name pattern (<c>ELASTICSEARCH_AUDIT_INDEX</c>); <c>%{…}</c> is replaced by the event's commit time (UTC) in that
    /// .NET date format, as Logstash does with Joda patterns.
    /// </summary>
    /// <value>Default <c>auditstream-%{yyyy.MM.dd}</c>.</value>
    [Required]
    public string Index { get; set; } = "auditstream-%{yyyy.MM.dd}";

    /// <summary>Basic-auth user (<c>ELASTICSEARCH_USERNAME</c>).</summary>
    /// <value>Default none.</value>
    public string? Username { get; set; }

    /// <summary>Basic-auth password (<c>ELASTICSEARCH_PASSWORD</c>). Never logged.</summary>
    /// <value>Default none.</value>
    public string? Password { get; set; }

    /// <summary>API key (the base64 <c>id:api_key</c> Elasticsearch returns as <c>encoded</c>), sent as <c>Authorization: ApiKey …</c>; wins over basic auth.</summary>
    /// <value>Default none.</value>
    public string? ApiKey { get; set; }

    /// <summary>Name of the composable index template put at start (<c>PUT _index_template/{name}</c>); empty to skip.</summary>
    /// <value>Default <c>auditstream</c>.</value>
    public string? TemplateName { get; set; } = "auditstream";
}
