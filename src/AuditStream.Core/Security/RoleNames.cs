using System.Diagnostics.CodeAnalysis;

namespace AuditStream.Security;

/// <summary>Converts between <see cref="Role"/> and the lower-case names used in token claims and on the wire (<c>admin</c>, <c>security</c>…).</summary>
public static class RoleNames
{
    /// <summary>Reads a claim value; case-insensitive, surrounding white space ignored. Unknown names fail rather than
    /// defaulting, so a typo in a token never grants or silently removes access.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out Role role)
    {
        role = default;
        if (value is null)
        {
            return false;
        }

        Role? parsed = value.Trim().ToLowerInvariant() switch
        {
            "admin" => Role.Admin,
            "security" => Role.Security,
            "compliance" => Role.Compliance,
            "operator" => Role.Operator,
            "auditor" => Role.Auditor,
            "user" => Role.User,
            _ => null,
        };
        role = parsed ?? default;
        return parsed is not null;
    }

    /// <summary>The claim and wire name of <paramref name="role"/>.</summary>
    public static string ToName(Role role) => role switch
    {
        Role.Admin => "admin",
        Role.Security => "security",
        Role.Compliance => "compliance",
        Role.Operator => "operator",
        Role.Auditor => "auditor",
        Role.User => "user",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "Unknown role."),
    };
}
