using Microsoft.Extensions.Configuration;

namespace AuditStream.Sinks.Configuration;

/// <summary>
/// The environment variables of the original specification (<c>DATADOG_ENABLED</c>, <c>ELASTICSEARCH_NODES</c>,
/// <c>SLACK_WEBHOOK_URL</c>, <c>PAGERDUTY_ROUTING_KEY</c>…) applied to <see cref="SinksOptions"/>. Keys under
/// <c>AuditStream:Sinks</c> are bound afterwards, so they win where both are set.
/// </summary>
public static class SinkEnvironment
{
    /// <summary>Every variable read, for documentation and <c>--help</c>.</summary>
    public static IReadOnlyList<string> Variables { get; } =
    [
        "DATADOG_ENABLED", "DATADOG_API_KEY", "DATADOG_SITE", "DATADOG_URL", "HOSTNAME",
        "ELASTICSEARCH_ENABLED", "ELASTICSEARCH_NODES", "ELASTICSEARCH_USERNAME", "ELASTICSEARCH_PASSWORD", "ELASTICSEARCH_AUDIT_INDEX",
        "SLACK_ENABLED", "SLACK_WEBHOOK_URL", "SLACK_AUDIT_CHANNEL", "SLACK_CRITICAL_CHANNEL",
        "PAGERDUTY_ENABLED", "PAGERDUTY_ROUTING_KEY", "PAGERDUTY_EVENTS_URL",
    ];

    /// <summary>Applies the variables found in <paramref name="configuration"/> (the root, where environment variables land).</summary>
    public static void Apply(IConfiguration configuration, SinksOptions options)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.EnvironmentErrors;

        var datadog = options.Datadog;
        Bool(configuration, "DATADOG_ENABLED", errors, v => datadog.Enabled = v);
        Text(configuration, "DATADOG_API_KEY", v => datadog.ApiKey = v);
        Text(configuration, "DATADOG_SITE", v => datadog.Site = v);
        Url(configuration, "DATADOG_URL", errors, v => datadog.Url = v);
        Text(configuration, "HOSTNAME", v => datadog.Hostname = v);

        var elastic = options.Elasticsearch;
        Bool(configuration, "ELASTICSEARCH_ENABLED", errors, v => elastic.Enabled = v);
        Text(configuration, "ELASTICSEARCH_NODES", v =>
        {
            elastic.Nodes.Clear();
            var nodes = v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            for (var i = 0; i < nodes.Length; i++)
            {
                var node = nodes[i];
                if (Uri.TryCreate(node.Contains("://", StringComparison.Ordinal) ? node : "http://" + node, UriKind.Absolute, out var uri)
                    && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
                {
                    elastic.Nodes.Add(uri);
                }
                else
                {
                    // The value is not echoed: it may carry credentials.
                    errors.Add($"ELASTICSEARCH_NODES: entry {i + 1} must be a URL like http://es1:9200");
                }
            }
        });
        Text(configuration, "ELASTICSEARCH_USERNAME", v => elastic.Username = v);
        Text(configuration, "ELASTICSEARCH_PASSWORD", v => elastic.Password = v);
        Text(configuration, "ELASTICSEARCH_AUDIT_INDEX", v => elastic.Index = LogstashIndex(v));

        var slack = options.Slack;
        Bool(configuration, "SLACK_ENABLED", errors, v => slack.Enabled = v);
        Url(configuration, "SLACK_WEBHOOK_URL", errors, v => slack.WebhookUrl = v);
        Text(configuration, "SLACK_AUDIT_CHANNEL", v => slack.AuditChannel = v);
        Text(configuration, "SLACK_CRITICAL_CHANNEL", v => slack.CriticalChannel = v);

        var pagerDuty = options.PagerDuty;
        Bool(configuration, "PAGERDUTY_ENABLED", errors, v => pagerDuty.Enabled = v);
        Text(configuration, "PAGERDUTY_ROUTING_KEY", v => pagerDuty.RoutingKey = v);
        Url(configuration, "PAGERDUTY_EVENTS_URL", errors, v => pagerDuty.EventsUrl = v);
    }

    /// <summary>Accepts Logstash's <c>%{+YYYY.MM.dd}</c> as well as <c>%{yyyy.MM.dd}</c>.</summary>
    internal static string LogstashIndex(string value) =>
        value.Replace("%{+", "%{", StringComparison.Ordinal).Replace("YYYY", "yyyy", StringComparison.Ordinal);

    private static void Text(IConfiguration configuration, string name, Action<string> set)
    {
        if (configuration[name] is { Length: > 0 } value)
        {
            set(value.Trim());
        }
    }

    private static void Bool(IConfiguration configuration, string name, List<string> errors, Action<bool> set)
    {
        switch (configuration[name]?.Trim().ToUpperInvariant())
        {
            case null or "":
                return;
            case "TRUE" or "1" or "YES" or "ON":
                set(true);
                return;
            case "FALSE" or "0" or "NO" or "OFF":
                set(false);
                return;
            default:
                errors.Add($"{name}: must be true or false (was '{configuration[name]}')");
                return;
        }
    }

    private static void Url(IConfiguration configuration, string name, List<string> errors, Action<Uri> set)
    {
        if (configuration[name] is not { Length: > 0 } value)
        {
            return;
        }

        if (Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            set(uri);
        }
        else
        {
            errors.Add($"{name}: must be an absolute http or https URL");
        }
    }
}
