using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AuditStream.Server.Tests.Support;
using AuditStream.Streaming.Hub;
using Microsoft.Extensions.DependencyInjection;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace AuditStream.Server.Tests.Operations;

/// <summary>deploy/: the manifests, dashboard and alert rules parse, wire what they claim, and use only metrics the server exports.</summary>
public sealed partial class DeployTests
{
    private static readonly string s_deploy = System.IO.Path.Combine(RepositoryRoot(), "deploy");

    [Fact]
    public void Kubernetes_manifests_parse_and_wire_the_probes_disruption_budget_and_autoscaling()
    {
        var documents = Directory.GetFiles(System.IO.Path.Combine(s_deploy, "kubernetes"), "*.yaml").SelectMany(ReadYaml).ToList();
        var byKind = documents.ToLookup(d => (string)d["kind"]);

        var deployment = Assert.Single(byKind["Deployment"]);
        var pod = Map(Map(deployment["spec"])["template"])["spec"] is var spec ? Map(spec) : throw new InvalidOperationException();
        var container = Map(List(pod["containers"])[0]);
        Assert.Equal("/live", At(container, "livenessProbe", "httpGet", "path"));
        Assert.Equal("/ready", At(container, "readinessProbe", "httpGet", "path"));
        Assert.Equal("/startup", At(container, "startupProbe", "httpGet", "path"));
        Assert.Equal("8080", At(Map(List(container["ports"])[0]), "containerPort"));
        Assert.Equal("true", At(pod, "securityContext", "runAsNonRoot"));
        Assert.NotEqual("0", At(pod, "securityContext", "runAsUser"));

        var drain = List(container["env"]).Select(Map).Single(e => (string)e["name"] == "AuditStream__Operations__DrainTimeout");
        Assert.True(int.Parse(At(pod, "terminationGracePeriodSeconds")) > TimeSpan.Parse((string)drain["value"]).TotalSeconds, "the grace period must outlast the drain");

        var service = Assert.Single(byKind["Service"]);
        Assert.Equal("http", At(Map(List(Map(service["spec"])["ports"])[0]), "targetPort"));
        Assert.Single(byKind["PodDisruptionBudget"]);

        var hpa = Assert.Single(byKind["HorizontalPodAutoscaler"]);
        Assert.Equal("autoscaling/v2", (string)hpa["apiVersion"]);
        var metrics = List(Map(hpa["spec"])["metrics"]).Select(Map).ToList();
        Assert.Contains(metrics, m => (string)m["type"] == "Resource" && At(m, "resource", "name") == "cpu");
        Assert.Contains(metrics, m => (string)m["type"] == "Pods" && At(m, "pods", "metric", "name") == "audit_websocket_connections_active");
        Assert.Contains("audit_websocket_connections_active", File.ReadAllText(System.IO.Path.Combine(s_deploy, "kubernetes", "prometheus-adapter.yaml")), StringComparison.Ordinal);
    }

    [Fact]
    public void The_deployment_runs_several_replicas_on_the_shared_ledger_with_settings_from_a_secret_and_the_pod_ip_advertised()
    {
        var documents = Directory.GetFiles(System.IO.Path.Combine(s_deploy, "kubernetes"), "*.yaml").SelectMany(ReadYaml).ToList();
        var deployment = documents.Single(d => (string)d["kind"] == "Deployment");
        Assert.True(int.Parse(At(deployment, "spec", "replicas")) > 1);
        var pod = Map(Node(deployment, "spec", "template", "spec"));
        var env = List(Map(List(pod["containers"])[0])["env"]).Select(Map).ToDictionary(e => (string)e["name"]);
        Assert.Equal("Postgres", (string)env["AuditStream__Ledger__Provider"]["value"]);
        foreach (var secret in (string[])["AuditStream__Ledger__ConnectionString", "AuditStream__Backplane__Redis", "AuditStream__Auth__SigningKey"])
        {
            Assert.Equal("auditstream-cluster", At(env[secret], "valueFrom", "secretKeyRef", "name"));
        }

        Assert.Equal("status.podIP", At(env["POD_IP"], "valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("metadata.name", At(env["POD_NAME"], "valueFrom", "fieldRef", "fieldPath"));
        Assert.Equal("http://$(POD_IP):8080", (string)env["AuditStream__Cluster__AdvertisedUrl"]["value"]);
        Assert.Equal("$(POD_NAME)", (string)env["AuditStream__Cluster__InstanceId"]["value"]);

        // The one checkpoint signer key of the ledger, from the same Secret, where SigningKeyPath points.
        var keyVolume = List(pod["volumes"]).Select(Map).Single(v => v.ContainsKey("secret"));
        Assert.Equal("auditstream-cluster", At(keyVolume, "secret", "secretName"));
        var mount = List(Map(List(pod["containers"])[0])["volumeMounts"]).Select(Map).Single(m => (string)m["name"] == (string)keyVolume["name"]);
        var path = At(Map(List(Map(keyVolume["secret"])["items"])[0]), "path");
        Assert.Equal($"{(string)mount["mountPath"]}/{path}", (string)env["AuditStream__Ledger__SigningKeyPath"]["value"]);
        Assert.Single(documents, d => (string)d["kind"] == "PodDisruptionBudget");
    }

    [Fact]
    public void Dockerfile_is_multi_stage_and_runs_as_a_non_root_user_on_the_probed_port()
    {
        var lines = File.ReadAllLines(System.IO.Path.Combine(s_deploy, "Dockerfile")).Select(l => l.Trim()).Where(l => l.Length > 0 && l[0] != '#').ToList();
        Assert.True(lines.Count(l => l.StartsWith("FROM ", StringComparison.Ordinal)) >= 2);
        Assert.Contains(lines, l => l.StartsWith("COPY --from=build", StringComparison.Ordinal));
        var user = lines.Last(l => l.StartsWith("USER ", StringComparison.Ordinal))["USER ".Length..];
        Assert.DoesNotContain(user, (string[])["root", "0", "0:0"]);
        Assert.Contains("EXPOSE 8080", lines);
        Assert.Contains(lines, l => l.StartsWith("ENTRYPOINT", StringComparison.Ordinal) && l.Contains("\"serve\"", StringComparison.Ordinal));
    }

    [Fact]
    public void Alert_rules_cover_slow_consumers_commit_latency_checkpoint_age_and_readiness()
    {
        var rules = ReadYaml(System.IO.Path.Combine(s_deploy, "prometheus", "alerts.yaml")).Single()["groups"] is var groups
            ? List(groups).Select(Map).SelectMany(g => List(g["rules"]).Select(Map)).ToList()
            : throw new InvalidOperationException();
        foreach (var rule in rules)
        {
            Assert.False(string.IsNullOrWhiteSpace((string)rule["expr"]));
            Assert.NotNull(At(rule, "labels", "severity"));
            Assert.NotNull(At(rule, "annotations", "summary"));
        }

        var exprs = string.Join('\n', rules.Select(r => (string)r["expr"]));
        Assert.Contains("reason=\"slow_consumer\"", exprs, StringComparison.Ordinal);
        Assert.Contains("audit_ledger_commit_duration_seconds_bucket", exprs, StringComparison.Ordinal);
        Assert.Contains("audit_ledger_checkpoint_age_seconds", exprs, StringComparison.Ordinal);
        Assert.Contains("audit_ready", exprs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_metric_and_label_the_dashboard_alerts_and_autoscaler_use_exists_in_a_live_scrape()
    {
        var dashboard = JsonNode.Parse(File.ReadAllText(System.IO.Path.Combine(s_deploy, "grafana", "auditstream-dashboard.json")))!;
        var queries = dashboard["panels"]!.AsArray()
            .SelectMany(p => p!["targets"]!.AsArray().Select(t => t!["expr"]!.GetValue<string>()))
            .ToList();
        Assert.NotEmpty(queries);
        var rules = List(ReadYaml(System.IO.Path.Combine(s_deploy, "prometheus", "alerts.yaml")).Single()["groups"]).Select(Map).SelectMany(g => List(g["rules"]).Select(Map));
        queries.AddRange(rules.Select(r => (string)r["expr"]));
        var adapter = ReadYaml(System.IO.Path.Combine(s_deploy, "kubernetes", "prometheus-adapter.yaml")).Single();
        var adapterRules = new DeserializerBuilder().Build().Deserialize<Dictionary<object, object>>((string)Map(adapter["data"])["config.yaml"]);
        foreach (var rule in List(adapterRules["rules"]).Select(Map))
        {
            queries.Add((string)rule["seriesQuery"]);
            queries.Add((string)rule["metricsQuery"]);
        }

        await using var server = await TestServer.StartAsync();
        using var client = server.Client();
        using var producer = server.Producer();
        await Json.PostEventsAsync(producer, Json.Event(1));
        await server.Ledger.Checkpoints.PublishNowAsync(CancellationToken.None);
        var (stream, _) = await Streaming.StreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"));
        await using (stream)
        {
            // Until the hub's write loop records latency (its call site), one observation makes the histogram family exist.
            if (server.Services.GetRequiredService<HubMetrics>().EventsPublished == 0)
            {
                server.Services.GetRequiredService<HubMetrics>().ObserveLatency(0.001);
            }

            var scrape = await PrometheusScrape.ReadAsync(server);
            var used = 0;
            foreach (var query in queries)
            {
                foreach (Match selector in Selector().Matches(query))
                {
                    var name = selector.Groups["name"].Value;
                    used++;
                    var samples = scrape.Samples.Where(s => s.Name == name).ToList();
                    Assert.True(samples.Count > 0, $"{name} (in '{query}') is not in a /metrics scrape");
                    foreach (Match matcher in LabelEquals().Matches(selector.Groups["labels"].Value))
                    {
                        var (label, value) = (matcher.Groups["label"].Value, matcher.Groups["value"].Value);
                        Assert.True(
                            samples.Any(s => s.Labels.TryGetValue(label, out var v) && v == value),
                            $"{name} has no sample with {label}=\"{value}\" (in '{query}')");
                    }
                }
            }

            Assert.True(used >= 30, $"only {used} metric references found");
        }
    }

    [GeneratedRegex("""\b(?<name>audit_[a-z0-9_]+)(\{(?<labels>[^}]*)\})?""")]
    private static partial Regex Selector();

    [GeneratedRegex(""""(?<label>[a-zA-Z_][a-zA-Z0-9_]*)="(?<value>[^"]*)"""")]
    private static partial Regex LabelEquals();

    private static List<Dictionary<object, object>> ReadYaml(string path)
    {
        var deserializer = new DeserializerBuilder().Build();
        var parser = new Parser(new StringReader(File.ReadAllText(path)));
        parser.Consume<StreamStart>();
        var documents = new List<Dictionary<object, object>>();
        while (parser.Accept<DocumentStart>(out _))
        {
            documents.Add(deserializer.Deserialize<Dictionary<object, object>>(parser));
        }

        Assert.NotEmpty(documents);
        return documents;
    }

    private static Dictionary<object, object> Map(object node) => Assert.IsType<Dictionary<object, object>>(node);

    private static List<object> List(object node) => Assert.IsType<List<object>>(node);

    private static object Node(Dictionary<object, object> node, params string[] keys) =>
        keys.Aggregate((object)node, (n, key) => Map(n)[key]);

    private static string At(Dictionary<object, object> node, params string[] keys)
    {
        object current = node;
        foreach (var key in keys)
        {
            Assert.True(Map(current).TryGetValue(key, out current!), $"missing {string.Join('.', keys)}");
        }

        return (string)current;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "AuditStream.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("AuditStream.slnx not found above " + AppContext.BaseDirectory);
    }
}
