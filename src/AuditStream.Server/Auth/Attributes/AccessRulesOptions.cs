using AuditStream.Security.Attributes;
using AuditStream.Validation;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Auth.Attributes;

/// <summary>Attribute-based access rules over token claims and event attributes (docs/security.md, "Authorization").</summary>
public sealed class AccessRulesOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "AuditStream:Authorization";

    /// <summary>
    /// The rules, in order. Empty: roles and tenants decide alone. Any rule: queries, exports, streams, proofs and sink
    /// admin are denied unless a rule allows them (deny by default), and a matching deny rule wins.
    /// </summary>
    /// <value>Default empty.</value>
    public List<AttributeRule> Rules { get; set; } = [];
}

/// <summary>Refuses to start with a rule that does not compile, naming its key (<c>AuditStream:Authorization:Rules:0:Resource:categroy</c>).</summary>
internal sealed class AccessRulesOptionsValidator : IValidateOptions<AccessRulesOptions>
{
    public ValidateOptionsResult Validate(string? name, AccessRulesOptions options)
    {
        var errors = new List<ValidationError>();
        AttributePolicy.Compile(options.Rules, errors);
        return errors.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(errors.Select(e => $"{AccessRulesOptions.SectionName}:Rules:{e.Field} {e.Rule}"));
    }
}
