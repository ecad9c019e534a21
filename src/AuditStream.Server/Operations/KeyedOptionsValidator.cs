using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Operations;

/// <summary>
/// Validates options with their data annotations and names each failure by its full configuration key and rule, e.g.
/// <c>AuditStream:Hub:MaxClients (env AuditStream__Hub__MaxClients) = 0: The field MaxClients must be between 1 and 1000000.</c>
/// </summary>
internal sealed class KeyedOptionsValidator<TOptions>(string section) : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var results = new List<ValidationResult>();
        if (Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        foreach (var result in results)
        {
            foreach (var member in result.MemberNames.DefaultIfEmpty(""))
            {
                var key = member.Length == 0 ? section : $"{section}:{member}";
                var value = member.Length == 0 ? null : typeof(TOptions).GetProperty(member)?.GetValue(options);
                failures.Add($"{key} (env {key.Replace(":", "__", StringComparison.Ordinal)}) = '{value}': {result.ErrorMessage}");
            }
        }

        return ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Registers options bound from a section and validated at start-up with errors that name the key.</summary>
internal static class ValidatedOptions
{
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions>(this IServiceCollection services, IConfiguration configuration, string section)
        where TOptions : class
    {
        services.AddSingleton<IValidateOptions<TOptions>>(new KeyedOptionsValidator<TOptions>(section));
        return services.AddOptions<TOptions>().Bind(configuration.GetSection(section)).ValidateOnStart();
    }
}
