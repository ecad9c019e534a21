using System.Security.Claims;
using AuditStream.Security;

namespace AuditStream.Server.Auth;

/// <summary>
/// The one multi-factor check, used by erasure and by privileged roles (<see cref="AuthOptions.PrivilegedRoles"/>): the
/// token's <c>amr</c> holds one of <see cref="AuthOptions.MfaMethods"/> or its <c>acr</c> is one of <see cref="AuthOptions.MfaAcrValues"/>.
/// </summary>
internal static class MultiFactor
{
    /// <summary>The rule's name in every refusal.</summary>
    public const string RuleName = "mfa_required";

    /// <summary>The claim that carries an OIDC authentication context class.</summary>
    public const string AcrClaim = "acr";

    public static bool Satisfied(ClaimsPrincipal user, AuthOptions options) =>
        user.FindAll(AuditClaims.AuthenticationMethods).Any(c => options.EffectiveMfaMethods.Contains(c.Value, StringComparer.Ordinal))
        || (user.FindFirst(AcrClaim)?.Value is { } acr && options.MfaAcrValues.Contains(acr, StringComparer.Ordinal));

    /// <summary>Whether the token's role is one the options mark privileged.</summary>
    public static bool IsPrivileged(ClaimsPrincipal user, AuthOptions options) =>
        user.GetRole() is { } role && options.PrivilegedRoles.Exists(p => RoleNames.TryParse(p, out var privileged) && privileged == role);

    /// <summary>What <c>amr</c> must contain, for a refusal's rule: <c>must contain "mfa"</c> (or an accepted <c>acr</c>).</summary>
    public static string Demand(AuthOptions options)
    {
        var methods = string.Join(" or ", options.EffectiveMfaMethods.Select(m => $"\"{m}\""));
        return options.MfaAcrValues.Count == 0
            ? $"must contain {methods}"
            : $"must contain {methods} (or acr be {string.Join(" or ", options.MfaAcrValues.Select(a => $"\"{a}\""))})";
    }

    /// <summary>The rule privileged roles must satisfy, as a <see cref="ClaimRule"/> on <c>amr</c>; holds for other roles.</summary>
    public static ClaimRule PrivilegedRule(AuthOptions options) => new(
        AuditClaims.AuthenticationMethods,
        $"{Demand(options)}: the roles {string.Join(", ", options.PrivilegedRoles)} are privileged (AuditStream:Auth:PrivilegedRoles) and need a multi-factor sign-in; step up and get a new token (rule {RuleName})",
        u => !IsPrivileged(u, options) || Satisfied(u, options));

    /// <summary>The erasure's rule: every role, a multi-factor sign-in.</summary>
    public static ClaimRule ErasureRule(AuthOptions options) => new(
        AuditClaims.AuthenticationMethods,
        $"{Demand(options)}: erasure requires a multi-factor sign-in (rule {RuleName})",
        u => Satisfied(u, options));
}
