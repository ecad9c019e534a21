using System.Collections;
using System.Globalization;
using System.Reflection;
using AuditStream.Classification;
using AuditStream.Ledger;
using AuditStream.Server.Auth;
using AuditStream.Server.Hosting;
using AuditStream.Streaming.Hub;
using AuditStream.Validation;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Operations;

/// <summary>
/// The configuration in force, as flat keys (<c>AuditStream:Hub:MaxClients</c>) with defaults filled in and secrets
/// shown as <see cref="Redacted"/>: what <c>auditstream serve --print-config</c> prints and
/// <c>/debug/websocket/audit/config</c> returns.
/// </summary>
internal static class EffectiveConfiguration
{
    public const string Redacted = "***";

    private static readonly (string Section, Type Type)[] s_sections =
    [
        (LedgerOptions.SectionName, typeof(LedgerOptions)),
        (AuditStream.Ledger.Cluster.ClusterOptions.SectionName, typeof(AuditStream.Ledger.Cluster.ClusterOptions)),
        (ServerOptions.SectionName, typeof(ServerOptions)),
        (AuthOptions.SectionName, typeof(AuthOptions)),
        (Hosting.Tls.TlsOptions.SectionName, typeof(Hosting.Tls.TlsOptions)),
        (Hosting.RateLimits.RateLimitOptions.SectionName, typeof(Hosting.RateLimits.RateLimitOptions)),
        (Privacy.PiiDetectionOptions.SectionName, typeof(Privacy.PiiDetectionOptions)),
        (HubOptions.SectionName, typeof(HubOptions)),
        (OperationsOptions.SectionName, typeof(OperationsOptions)),
        (AuditStream.Streaming.Backplane.BackplaneOptions.SectionName, typeof(AuditStream.Streaming.Backplane.BackplaneOptions)),
        ("AuditStream:Validation", typeof(ValidationOptions)),
        ("AuditStream:Classification", typeof(ClassifierOptions)),
        (AuditStream.Server.WebConsole.ConsoleOptions.SectionName, typeof(AuditStream.Server.WebConsole.ConsoleOptions)),
    ];

    // Key segments whose values are credentials; matched case-insensitively against the last segment of a key. A Redis
    // configuration string (AuditStream:Backplane:Redis) may hold a password.
    private static readonly string[] s_secretWords = ["secret", "password", "token", "apikey", "api_key", "connectionstring", "webhook", "signingkey", "privatekey", "credential", "routingkey", "routing_key", "redis"];

    /// <summary>Every key of the typed options (defaults included) plus <c>urls</c> and <c>Logging:*</c>, sorted, secrets redacted.</summary>
    public static SortedDictionary<string, string?> Collect(IConfiguration configuration)
    {
        var keys = new SortedDictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (section, type) in s_sections)
        {
            object options;
            try
            {
                options = configuration.GetSection(section).Get(type) ?? Activator.CreateInstance(type)!;
            }
            catch (InvalidOperationException)
            {
                // A value that does not convert (Validate reports it): show the section as configured.
                foreach (var (key, value) in configuration.GetSection(section).AsEnumerable())
                {
                    if (value is not null)
                    {
                        keys[key] = value;
                    }
                }

                continue;
            }

            Flatten(section, options, keys, depth: 0);
        }

        keys["urls"] = configuration["urls"] ?? ServerHost.DefaultUrls;
        foreach (var (key, value) in configuration.GetSection("Logging").AsEnumerable())
        {
            if (value is not null)
            {
                keys[key] = value;
            }
        }

        foreach (var key in keys.Keys.ToList())
        {
            if (keys[key] is not null && IsSecret(key))
            {
                keys[key] = Redacted;
            }
        }

        return keys;
    }

    /// <summary>The start-up validation errors of the typed options, each naming its key and rule; empty when valid.</summary>
    public static IReadOnlyList<string> Validate(IConfiguration configuration)
    {
        var errors = new List<string>();
        errors.AddRange(Failures<LedgerOptions>(configuration, LedgerOptions.SectionName));
        errors.AddRange(Failures<AuditStream.Ledger.Cluster.ClusterOptions>(configuration, AuditStream.Ledger.Cluster.ClusterOptions.SectionName));
        errors.AddRange(Failures<ServerOptions>(configuration, ServerOptions.SectionName));
        errors.AddRange(Failures<AuthOptions>(configuration, AuthOptions.SectionName));
        errors.AddRange(Failures<Hosting.Tls.TlsOptions>(configuration, Hosting.Tls.TlsOptions.SectionName));
        errors.AddRange(Failures<Privacy.PiiDetectionOptions>(configuration, Privacy.PiiDetectionOptions.SectionName));
        errors.AddRange(Failures<HubOptions>(configuration, HubOptions.SectionName));
        errors.AddRange(Failures<OperationsOptions>(configuration, OperationsOptions.SectionName));
        errors.AddRange(Failures<AuditStream.Streaming.Backplane.BackplaneOptions>(configuration, AuditStream.Streaming.Backplane.BackplaneOptions.SectionName));
        return errors;
    }

    /// <summary>True for keys whose values are credentials (never printed).</summary>
    public static bool IsSecret(string key)
    {
        // The last name that is not a list index: "Secrets" for AuditStream:Sinks:Webhooks:0:Secrets:1.
        var names = key.Split(':');

        // Master keys are named by their key id (AuditStream:Ledger:Privacy:MasterKeys:mk-2027): every value under it is a key.
        if (names.Any(n => n.Equals("MasterKeys", StringComparison.OrdinalIgnoreCase)))
        {
            return true;
        }

        var last = names.LastOrDefault(n => !n.All(char.IsAsciiDigit)) ?? key;
        return !last.EndsWith("Path", StringComparison.OrdinalIgnoreCase)
            && s_secretWords.Any(w => last.Contains(w, StringComparison.OrdinalIgnoreCase));
    }

    private static IEnumerable<string> Failures<T>(IConfiguration configuration, string section)
        where T : class, new()
    {
        T options;
        try
        {
            options = configuration.GetSection(section).Get<T>() ?? new T();
        }
        catch (InvalidOperationException ex)
        {
            return [$"{section}: {ex.Message}"];
        }

        var result = new KeyedOptionsValidator<T>(section).Validate(Options.DefaultName, options);
        return result.Failed ? result.Failures : [];
    }

    private static void Flatten(string prefix, object? value, SortedDictionary<string, string?> keys, int depth)
    {
        switch (value)
        {
            case null:
                keys[prefix] = null;
                return;
            case string or bool or Enum or IFormattable:
                keys[prefix] = Format(value);
                return;
            case IDictionary entries when depth < 8:
                // Named like the configuration keys that bind them (AuditStream:PiiDetection:Tenants:acme:Action).
                foreach (DictionaryEntry entry in entries)
                {
                    Flatten($"{prefix}:{entry.Key}", entry.Value, keys, depth + 1);
                }

                return;
            case IEnumerable items when depth < 8:
                var index = 0;
                foreach (var item in items)
                {
                    Flatten($"{prefix}:{index++}", item, keys, depth + 1);
                }

                return;
        }

        if (depth >= 8)
        {
            return;
        }

        foreach (var property in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length == 0 && property.CanRead && (property.CanWrite || IsCollection(property.PropertyType)))
            {
                Flatten($"{prefix}:{property.Name}", property.GetValue(value), keys, depth + 1);
            }
        }
    }

    private static bool IsCollection(Type type) => type != typeof(string) && typeof(IEnumerable).IsAssignableFrom(type);

    private static string Format(object value) => value switch
    {
        bool b => b ? "true" : "false",
        TimeSpan t => t.ToString("c", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
