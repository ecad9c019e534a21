using System.ComponentModel.DataAnnotations;
using AuditStream.Filters;
using AuditStream.Sinks.Alerts;
using AuditStream.Sinks.Runtime;
using AuditStream.Validation;
using Microsoft.Extensions.Options;

namespace AuditStream.Sinks.Configuration;

/// <summary>Checks <see cref="SinksOptions"/> at start-up; every failure names the configuration key and the rule.</summary>
public sealed class SinksOptionsValidator : IValidateOptions<SinksOptions>
{
    private const string Section = SinksOptions.SectionName;

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, SinksOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>(options.EnvironmentErrors);
        var names = new HashSet<string>(StringComparer.Ordinal) { AlertEvaluator.CursorName };

        Sink(options.Elasticsearch, $"{Section}:Elasticsearch", options.Elasticsearch.Name, names, errors, () =>
        {
            if (options.Elasticsearch.Nodes.Count == 0)
            {
                errors.Add($"{Section}:Elasticsearch:Nodes (ELASTICSEARCH_NODES): at least one node is required");
            }
        });
        Sink(options.Datadog, $"{Section}:Datadog", options.Datadog.Name, names, errors, () => Required(options.Datadog.ApiKey, $"{Section}:Datadog:ApiKey (DATADOG_API_KEY)", errors));
        Sink(options.Slack, $"{Section}:Slack", options.Slack.Name, names, errors, () =>
        {
            if (options.Slack.WebhookUrl is null)
            {
                errors.Add($"{Section}:Slack:WebhookUrl (SLACK_WEBHOOK_URL): is required");
            }

            for (var i = 0; i < options.Slack.Routes.Count; i++)
            {
                var route = options.Slack.Routes[i];
                Filter(new SinkFilter { EventTypes = route.EventTypes, Severities = route.Severities, Categories = route.Categories }, $"{Section}:Slack:Routes:{i}", errors);
            }
        });
        Sink(options.PagerDuty, $"{Section}:PagerDuty", options.PagerDuty.Name, names, errors, () => Required(options.PagerDuty.RoutingKey, $"{Section}:PagerDuty:RoutingKey (PAGERDUTY_ROUTING_KEY)", errors));
        for (var i = 0; i < options.Webhooks.Count; i++)
        {
            var webhook = options.Webhooks[i];
            var path = $"{Section}:Webhooks:{i}";
            Sink(webhook, path, webhook.Name, names, errors, () =>
            {
                if (webhook.Url is { } url && !(url.IsAbsoluteUri && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)))
                {
                    errors.Add($"{path}:Url: must be an absolute http or https URL");
                }
            });
        }

        if (options.LeaseDuration < TimeSpan.FromSeconds(1) || options.LeaseDuration > TimeSpan.FromMinutes(10))
        {
            errors.Add($"{Section}:LeaseDuration: must be between 00:00:01 and 00:10:00 (was {options.LeaseDuration})");
        }

        if (options.Alerts.Enabled)
        {
            if (options.Alerts.SinkLag.Enabled)
            {
                Annotations(options.Alerts.SinkLag, $"{Section}:Alerts:SinkLag", errors);
            }

            var rules = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < options.Alerts.Rules.Count; i++)
            {
                var rule = options.Alerts.Rules[i];
                var path = $"{Section}:Alerts:Rules:{i}";
                Annotations(rule, path, errors);
                if (!rules.Add(rule.Name))
                {
                    errors.Add($"{path}:Name: '{rule.Name}' is used by another rule");
                }

                if (rule.GroupBy is { } groupBy && !IsGroupField(groupBy))
                {
                    errors.Add($"{path}:GroupBy: must be an event field (actor_id, target_id, type…), source.<name> or metadata.<path>");
                }

                Filter(rule.Filter, path, errors);
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Sink(SinkOptions sink, string path, string name, HashSet<string> names, List<string> errors, Action specific)
    {
        if (!sink.Enabled)
        {
            return;
        }

        Annotations(sink, path, errors);
        Annotations(sink.Resilience, path + ":Resilience", errors);
        if (!names.Add(name))
        {
            errors.Add($"{path}:Name: '{name}' is used by another sink (or is reserved)");
        }

        Filter(sink.Filter, path, errors);
        specific();
    }

    private static void Filter(SinkFilter? filter, string path, List<string> errors)
    {
        if (filter is null)
        {
            return;
        }

        var problems = new List<ValidationError>();
        if (!FilterValidator.Validate(filter.ToStreamFilter(), int.MaxValue, problems))
        {
            errors.AddRange(problems.Select(p => $"{path}:Filter ({p.Field}): {p.Rule}"));
        }
    }

    private static void Annotations(object value, string path, List<string> errors)
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(value, new ValidationContext(value), results, validateAllProperties: true))
        {
            errors.AddRange(results.Select(r => $"{path}:{string.Join(",", r.MemberNames)}: {r.ErrorMessage}"));
        }
    }

    private static void Required(string? value, string key, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add($"{key}: is required when the sink is enabled");
        }
    }

    private static bool IsGroupField(string field) =>
        field is "type" or "severity" or "category" or "actor_id" or "actor_type" or "target_id" or "target_type" or "action"
            or "outcome" or "tenant_id" or "subject_id" or "source.service" or "source.ip" or "source.user_agent" or "source.request_id" or "source.trace_id"
        || (field.StartsWith("metadata.", StringComparison.Ordinal) && field.Length > "metadata.".Length);
}
