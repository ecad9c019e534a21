using AuditStream.Server.Api;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace AuditStream.Server.Auth;

/// <summary>
/// Answers the authorization middleware's refusals as problem details that say why: a 401 names what is wrong with the
/// token (none sent, expired, wrong audience…), a 403 every <see cref="ClaimRule"/> the token fails. The challenge or
/// forbid itself (status, <c>WWW-Authenticate</c>) is still the authentication scheme's.
/// </summary>
internal sealed class AuthorizationProblems(IOptions<AuthOptions> options) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        await _default.HandleAsync(next, context, policy, authorizeResult);
        if (context.Response.HasStarted)
        {
            return;
        }

        if (authorizeResult.Challenged)
        {
            // The scheme's handler caches its result for the request: this does not validate the token again.
            var failure = (await context.AuthenticateAsync()).Failure;
            if (Hosting.Tls.ClientCertificateAuthentication.Problem(failure) is { } certificate)
            {
                await Problems.Unauthorized("The client certificate was refused.", [certificate]).ExecuteAsync(context);
                return;
            }

            await Unauthorized(context, failure, options.Value.Audience);
        }
        else if (authorizeResult.Forbidden)
        {
            // The tenant rule says which of its claims is wrong and how; the others are fixed rules.
            var failed = (authorizeResult.AuthorizationFailure?.FailedRequirements ?? []).Select(r => r switch
                {
                    ValidTenantRequirement when TenantClaim.Problem(context.User) is var (claim, rule) => new ProblemError(null, claim, rule),
                    ClaimRule c => new ProblemError(null, c.Claim, c.Rule),
                    Attributes.AttributeActionRequirement a => context.RequestServices.GetRequiredService<Attributes.AttributeAccess>().Refusal(context.User, a.Action),
                    _ => null,
                })
                .OfType<ProblemError>()
                .Distinct()
                .ToArray();
            if (failed.Length == 0)
            {
                // Every requirement above names itself; one that does not is still named by its type, never a bare 403.
                failed = [.. (authorizeResult.AuthorizationFailure?.FailedRequirements ?? []).Select(r => new ProblemError(null, "policy", $"requires {r.GetType().Name}"))];
            }

            var detail = failed.Length == 0
                ? "The token does not satisfy this endpoint's policy."
                : $"The token's {string.Join(" and ", failed.Select(f => f.Field))} claim does not allow this: {string.Join("; ", failed.Select(f => $"{f.Field} {f.Rule}"))}.";
            await Problems.Forbidden(detail, failed).ExecuteAsync(context);
        }
    }

    /// <summary>Answers a refused or missing token with a 401 problem naming what is wrong with it (the challenge itself is the scheme's).</summary>
    public static Task Unauthorized(HttpContext context, Exception? failure, string audience)
    {
        var (claim, rule) = Unauthenticated(failure, audience);
        return Problems.Unauthorized(failure is null ? "No bearer token was sent." : "The bearer token was refused.", [new ProblemError(null, claim, rule)]).ExecuteAsync(context);
    }

    /// <summary>The claim (or <c>authorization</c>, <c>signature</c>) a refused token gets wrong, and the rule; never the token's own content.</summary>
    private static (string Claim, string Rule) Unauthenticated(Exception? failure, string audience) => failure switch
    {
        null => ("authorization", "must be 'Bearer <JWT>'"),
        SecurityTokenExpiredException => ("exp", "must be in the future: the token has expired"),
        SecurityTokenNotYetValidException => ("nbf", "must not be in the future: the token is not valid yet"),
        SecurityTokenNoExpirationException => ("exp", "is required"),
        SecurityTokenInvalidAudienceException => ("aud", $"must be {audience}"),
        SecurityTokenInvalidIssuerException => ("iss", "must be the configured issuer (AuditStream:Auth:Issuer or the authority)"),
        SecurityTokenInvalidAlgorithmException => ("alg", "must be an algorithm the server accepts"),
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => ("signature", "must verify with the server's signing key"),
        _ => ("authorization", "must be a valid JWT"),
    };
}
