using System.CommandLine;
using AuditStream.Ledger;
using AuditStream.Security;
using AuditStream.Server.Auth;

namespace AuditStream.Server.Cli;

/// <summary><c>auditstream token issue</c>: signs a development (HS256) token with the server's secret and prints it.</summary>
internal static class TokenCommand
{
    public static Command Create()
    {
        var role = new Option<string>("--role") { Description = "admin, security, compliance, operator, auditor or user", Required = true };
        role.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && !RoleNames.TryParse(r.Tokens[0].Value, out _))
            {
                r.AddError($"--role must be one of admin, security, compliance, operator, auditor, user (was '{r.Tokens[0].Value}').");
            }
        });
        var tenant = new Option<string>("--tenant") { Description = "The tenant the token is for; '*' grants all tenants", Required = true };
        tenant.Validators.Add(r =>
        {
            // A token without a usable tenant is refused on every path (TenantClaim): refuse to issue one.
            if (r.Tokens.Count > 0 && string.IsNullOrWhiteSpace(r.Tokens[0].Value))
            {
                r.AddError("--tenant must name a tenant, or be '*' for all tenants (was empty).");
            }
        });
        var scope = new Option<string[]>("--scope") { Description = "Scopes, e.g. audit:write to ingest (repeatable)", AllowMultipleArgumentsPerToken = true };
        var ttl = new Option<TimeSpan>("--ttl") { Description = "Lifetime, e.g. 15m, 1h, 7d", DefaultValueFactory = _ => TimeSpan.FromHours(1), CustomParser = Durations.Parse };
        var subject = new Option<string>("--subject") { Description = "The token's sub claim. Default: cli-<role>" };
        var mfa = new Option<bool>("--mfa") { Description = "Add amr: [\"mfa\"], as after a multi-factor sign-in (required to erase a subject, and on every path for roles in AuditStream:Auth:PrivilegedRoles)" };
        var data = CommonOptions.Data();
        var issue = new Command("issue", "Issue a token signed with the server's HS256 secret; prints only the token.") { role, tenant, scope, ttl, subject, mfa, data };
        issue.SetAction(result =>
        {
            var configuration = CommonOptions.Configuration(result.GetValue(data));
            var auth = configuration.GetSection(AuthOptions.SectionName).Get<AuthOptions>() ?? new AuthOptions();
            var ledger = configuration.GetSection(LedgerOptions.SectionName).Get<LedgerOptions>() ?? new LedgerOptions();
            if (auth.Authority is not null || auth.JwksUrl is not null)
            {
                Console.Error.WriteLine("This server validates tokens from an external issuer (Authority/JwksUrl); get tokens there.");
                return 2;
            }

            if (!RoleNames.TryParse(result.GetValue(role), out var parsed))
            {
                return 2;
            }

            var issuer = new TokenIssuer(SigningSecret.Load(auth, ledger.DataDirectory), auth, TimeProvider.System);
            Console.WriteLine(issuer.Issue(RoleNames.ToName(parsed), result.GetValue(tenant), result.GetValue(scope) ?? [], result.GetValue(ttl), result.GetValue(subject), mfa: result.GetValue(mfa)));
            return 0;
        });
        return new Command("token", "Development tokens.") { issue };
    }
}
