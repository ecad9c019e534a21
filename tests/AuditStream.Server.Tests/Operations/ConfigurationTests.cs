using System.Net;
using AuditStream.Server.Tests.Streaming;
using AuditStream.Server.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Tests.Operations;

public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("AuditStream:Hub:MaxClients", "0", "between 1 and 1000000")]
    [InlineData("AuditStream:Operations:DrainTimeout", "00:00:00", "between 00:00:01 and 00:10:00")]
    [InlineData("AuditStream:Operations:MetricsPath", "metrics", "must be a path starting with '/'")]
    [InlineData("AuditStream:Ledger:MaxBatchEvents", "0", "between 1 and 100000")]
    public async Task Bad_configuration_fails_start_up_naming_the_key_and_the_rule(string key, string value, string rule)
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => TestServer.StartAsync(new Dictionary<string, string?> { [key] = value }));
        var message = Assert.Single(failure.Failures);
        Assert.StartsWith($"{key} (env {key.Replace(":", "__", StringComparison.Ordinal)}) = '", message, StringComparison.Ordinal);
        Assert.Contains(rule, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_postgres_provider_without_a_connection_string_fails_start_up_naming_the_key()
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => TestServer.StartAsync(new Dictionary<string, string?> { ["AuditStream:Ledger:Provider"] = "Postgres" }));
        var message = Assert.Single(failure.Failures);
        Assert.StartsWith("AuditStream:Ledger:ConnectionString (env AuditStream__Ledger__ConnectionString) = ''", message, StringComparison.Ordinal);
        Assert.Contains("required when AuditStream:Ledger:Provider is Postgres", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_refuses_to_start_on_a_bad_environment_variable_and_names_it()
    {
        var data = Directory.CreateTempSubdirectory("auditstream-config-");
        try
        {
            var (exit, _, stderr) = await Support.Cli.RunAsync(null, Environment("Production", ("AuditStream__Hub__MaxClients", "0")), "serve", "--data", data.FullName, "--urls", "http://127.0.0.1:0");
            Assert.Equal(78, exit);
            Assert.Contains("AuditStream:Hub:MaxClients (env AuditStream__Hub__MaxClients) = '0'", stderr, StringComparison.Ordinal);
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Each_profile_loads_its_values_and_an_environment_variable_overrides_them()
    {
        var expected = new Dictionary<string, (string MaxClients, string Buffer, string PerSecond)>
        {
            ["Development"] = ("100", "1000", "10"),
            ["Staging"] = ("500", "5000", "100"),
            ["Production"] = ("2000", "10000", "100"),
        };
        foreach (var (environment, (maxClients, buffer, perSecond)) in expected)
        {
            var (exit, stdout, stderr) = await Support.Cli.RunAsync(null, Environment(environment), "serve", "--print-config");
            Assert.True(exit == 0, stderr);
            var values = Parse(stdout);
            Assert.Equal(maxClients, values["AuditStream:Hub:MaxClients"]);
            Assert.Equal(buffer, values["AuditStream:Ledger:BroadcastBufferSize"]);
            Assert.Equal(perSecond, values["AuditStream:Hub:RateLimitPerSecond"]);
            Assert.Contains($"# environment: {environment}", stdout, StringComparison.Ordinal);
        }

        var secret = Convert.ToBase64String(new byte[32]);
        var (code, output, _) = await Support.Cli.RunAsync(
            null,
            Environment("Staging", ("AuditStream__Hub__MaxClients", "7"), ("AuditStream__Auth__SigningKey", secret)),
            "serve", "--print-config", "--log-level", "Debug");
        Assert.Equal(0, code);
        var overridden = Parse(output);
        Assert.Equal("7", overridden["AuditStream:Hub:MaxClients"]);
        Assert.Equal("5000", overridden["AuditStream:Ledger:BroadcastBufferSize"]);
        Assert.Equal("***", overridden["AuditStream:Auth:SigningKey"]);
        Assert.Equal("Debug", overridden["Logging:LogLevel:Default"]);
        Assert.DoesNotContain(secret, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_value_of_the_wrong_type_fails_start_up_and_print_config_naming_the_key()
    {
        var data = Directory.CreateTempSubdirectory("auditstream-config-");
        try
        {
            var environment = Environment("Production", ("AuditStream__Hub__MaxClients", "many"));
            var (exit, _, stderr) = await Support.Cli.RunAsync(null, environment, "serve", "--data", data.FullName, "--urls", "http://127.0.0.1:0");
            Assert.Equal(78, exit);
            Assert.Contains("AuditStream:Hub:MaxClients", stderr, StringComparison.Ordinal);

            var (printExit, stdout, printErr) = await Support.Cli.RunAsync(null, environment, "serve", "--print-config");
            Assert.Equal(78, printExit);
            Assert.Contains("AuditStream:Hub:MaxClients = many", stdout, StringComparison.Ordinal);
            Assert.Contains("AuditStream:Hub:MaxClients", printErr, StringComparison.Ordinal);
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Print_config_exits_78_naming_each_bad_key()
    {
        var (exit, stdout, stderr) = await Support.Cli.RunAsync(null, Environment("Production", ("AuditStream__Hub__RateLimitPerSecond", "-1")), "serve", "--print-config");
        Assert.Equal(78, exit);
        Assert.Contains("AuditStream:Hub:RateLimitPerSecond = -1", stdout, StringComparison.Ordinal);
        Assert.Contains("invalid: AuditStream:Hub:RateLimitPerSecond (env AuditStream__Hub__RateLimitPerSecond) = '-1'", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Print_config_shows_the_pii_detection_policy_by_tenant_and_detector_and_names_an_unknown_detector()
    {
        var (exit, stdout, stderr) = await Support.Cli.RunAsync(null, Environment("Production",
            ("AuditStream__PiiDetection__Default__Action", "mask"), ("AuditStream__PiiDetection__Tenants__acme__Detectors__card", "reject")), "serve", "--print-config");
        Assert.True(exit == 0, stderr);
        var keys = Parse(stdout);
        Assert.Equal("Mask", keys["AuditStream:PiiDetection:Default:Action"]);
        Assert.Equal("Reject", keys["AuditStream:PiiDetection:Tenants:acme:Detectors:card"]);

        var bad = await Support.Cli.RunAsync(null, Environment("Production", ("AuditStream__PiiDetection__Default__Detectors__passport", "reject")), "serve", "--print-config");
        Assert.Equal(78, bad.ExitCode);
        Assert.Contains("Default:Detectors:passport is not a detector", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Print_config_shows_the_backplane_keys_with_the_redis_string_redacted_and_names_a_bad_one()
    {
        var (exit, stdout, stderr) = await Support.Cli.RunAsync(null, Environment("Production", ("AuditStream__Backplane__Redis", "redis:6379,password=hunter2")), "serve", "--print-config");
        Assert.True(exit == 0, stderr);
        var keys = Parse(stdout);
        Assert.Equal("***", keys["AuditStream:Backplane:Redis"]);
        Assert.Equal("00:00:01", keys["AuditStream:Backplane:PublishTimeout"]);
        Assert.DoesNotContain("hunter2", stdout, StringComparison.Ordinal);

        var bad = await Support.Cli.RunAsync(null, Environment("Production", ("AuditStream__Backplane__Redis", "redis:6379,password=hunter2,colour=blue")), "serve", "--print-config");
        Assert.Equal(78, bad.ExitCode);
        Assert.Contains("AuditStream:Backplane:Redis (env AuditStream__Backplane__Redis)", bad.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", bad.Stderr + bad.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MaxClients_changed_at_run_time_takes_effect_without_a_restart()
    {
        await using var server = await TestServer.StartAsync();
        var configuration = (IConfigurationRoot)server.Services.GetRequiredService<IConfiguration>();
        configuration["AuditStream:Hub:MaxClients"] = "1";
        configuration.Reload();

        var (first, _) = await StreamClient.ConnectEstablishedAsync(server, server.Token("admin", "*"));
        await using (first)
        {
            using var socket = new System.Net.WebSockets.ClientWebSocket();
            socket.Options.CollectHttpResponseDetails = true;
            var refused = await Assert.ThrowsAnyAsync<System.Net.WebSockets.WebSocketException>(
                () => socket.ConnectAsync(StreamClient.Address(server, "?token=" + server.Token("admin", "*")), CancellationToken.None));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, socket.HttpStatusCode);
        }
    }

    [Fact]
    public async Task An_invalid_change_at_run_time_is_logged_naming_the_key_and_the_limits_in_force_stay()
    {
        var sink = new LoggingTests.RecordingLoggerProvider();
        await using var server = await TestServer.StartAsync(
            new Dictionary<string, string?> { ["Logging:LogLevel:AuditStream"] = "Information" },
            s => s.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(sink));
        var configuration = (IConfigurationRoot)server.Services.GetRequiredService<IConfiguration>();
        configuration["AuditStream:Hub:MaxClients"] = "0";

        // A file-watcher reload runs this on a background task, where the monitor's exception goes unobserved.
        Assert.ThrowsAny<Exception>(configuration.Reload);

        var rejected = await sink.WaitForAsync("HubOptionsReloadRejected");
        Assert.Contains("AuditStream:Hub:MaxClients (env AuditStream__Hub__MaxClients) = '0'", rejected.Message, StringComparison.Ordinal);
        Assert.Equal(2000, server.Services.GetRequiredService<AuditStream.Streaming.Hub.StreamHub>().Options.MaxClients);
    }

    private static Dictionary<string, string?> Environment(string name, params (string Name, string Value)[] variables)
    {
        var environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = name,
            ["DOTNET_ENVIRONMENT"] = null,
        };
        foreach (var (variable, value) in variables)
        {
            environment[variable] = value;
        }

        return environment;
    }

    private static Dictionary<string, string> Parse(string printed) =>
        printed.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !l.StartsWith('#'))
            .Select(l => l.Split(" = ", 2))
            .ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "", StringComparer.Ordinal);

    [Theory]
    [InlineData("AuditStream:Auth:SigningKey")]
    [InlineData("AuditStream:Ledger:ConnectionString")]
    [InlineData("AuditStream:Sinks:PagerDuty:RoutingKey")]
    [InlineData("PAGERDUTY_ROUTING_KEY")]
    [InlineData("DATADOG_API_KEY")]
    [InlineData("AuditStream:Sinks:Elasticsearch:Password")]
    [InlineData("AuditStream:Sinks:Webhooks:0:Secrets:1")]
    [InlineData("AuditStream:Backplane:Redis")]
    public void Keys_that_hold_credentials_are_redacted(string key) =>
        Assert.True(AuditStream.Server.Operations.EffectiveConfiguration.IsSecret(key), key);
}
