using AuditStream.Security;
using AuditStream.Server.Streaming;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace AuditStream.Server.Auth;

/// <summary>Wires JWT bearer authentication and AuditStream's authorization policies.</summary>
internal static partial class AuthSetup
{
    public static void AddAuditStreamAuth(this IServiceCollection services, AuthOptions options, byte[]? hmacSecret)
    {
        services.AddAuthentication(o =>
        {
            o.DefaultScheme = JwtBearerDefaults.AuthenticationScheme;
            o.DefaultAuthenticateScheme = StreamDeferredAuthentication.RequestScheme;
        }).AddStreamDeferredAuthentication().AddJwtBearer(jwt =>
        {
            // Keep claim names as issued ("role", "tenant", "scope"), not mapped to WS-* URIs.
            jwt.MapInboundClaims = false;
            jwt.RequireHttpsMetadata = !options.AllowInsecureMetadata;
            jwt.TokenValidationParameters = new TokenValidationParameters
            {
                ValidateAudience = true,
                ValidAudience = options.Audience,
                ValidateLifetime = true,
                RequireExpirationTime = true,
                ClockSkew = options.ClockSkew,
                RoleClaimType = AuditClaims.Role,
                NameClaimType = "sub",
            };

            if (options.Authority is { } authority)
            {
                jwt.Authority = authority;
                jwt.TokenValidationParameters.ValidateIssuer = true;
                jwt.TokenValidationParameters.ValidAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256];
            }
            else if (options.JwksUrl is { } jwks)
            {
                jwt.TokenValidationParameters.ValidIssuer = options.Issuer;
                jwt.TokenValidationParameters.ValidAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256];
                jwt.ConfigurationManager = new ConfigurationManager<OpenIdConnectConfiguration>(
                    jwks, new JwksRetriever(), new HttpDocumentRetriever { RequireHttps = !options.AllowInsecureMetadata });
            }
            else
            {
                jwt.TokenValidationParameters.ValidIssuer = options.Issuer;
                jwt.TokenValidationParameters.IssuerSigningKey = new SymmetricSecurityKey(hmacSecret ?? throw new InvalidOperationException("An HS256 secret is required without Authority or JwksUrl."));
                jwt.TokenValidationParameters.ValidAlgorithms = [SecurityAlgorithms.HmacSha256];
            }

            jwt.Events = new JwtBearerEvents
            {
                OnMessageReceived = context =>
                {
                    // Browsers cannot set headers on a WebSocket or EventSource: accept ?token= on the streaming endpoints.
                    var path = context.HttpContext.Request.Path;
                    if (context.Token is null && (path.StartsWithSegments("/ws") || path.StartsWithSegments("/api/v1/stream"))
                        && context.Request.Query.TryGetValue("token", out var token))
                    {
                        context.Token = token.ToString();
                    }

                    // ... or as a "bearer.<jwt>" WebSocket subprotocol, the one header a browser can set on a WebSocket.
                    if (context.Token is null && path.StartsWithSegments("/ws"))
                    {
                        context.Token = StreamEndpoints.TokenFromSubprotocol(context.Request);
                    }

                    return Task.CompletedTask;
                },
                OnAuthenticationFailed = context =>
                {
                    // The failure's type only: IdentityModel messages can carry token fragments; never the token itself.
                    // Not for the connection layer's look at a stream request: HTTP authenticates it again and logs it once.
                    if (!Streaming.Connections.StreamConnectionTakeover.IsPeek(context.HttpContext))
                    {
                        LogFailure(context.HttpContext, context.Exception.GetType().Name);
                    }

                    return Task.CompletedTask;
                },
                OnChallenge = context =>
                {
                    if (context.AuthenticateFailure is null)
                    {
                        LogFailure(context.HttpContext, "no token");
                    }

                    // A refused stream connection (no or a bad token) belongs in the stream's audit trail too.
                    var path = context.HttpContext.Request.Path;
                    if (path.StartsWithSegments("/ws/audit") || path.StartsWithSegments("/api/v1/stream"))
                    {
                        Streaming.StreamEndpoints.RecordRefusal(context.HttpContext, path.StartsWithSegments("/ws") ? "websocket" : "sse", StatusCodes.Status401Unauthorized);
                    }

                    return Task.CompletedTask;
                },
            };
        });

        services.AddSingleton<IAuthorizationMiddlewareResultHandler, AuthorizationProblems>();
        var canWrite = new ClaimRule(AuditClaims.Scope, $"must include {AuditClaims.WriteScope}", u => u.HasScope(AuditClaims.WriteScope));
        var readsEvents = new ClaimRule(AuditClaims.Role, "must be a role that receives audit events: admin, security, compliance, operator or auditor",
            u => u.GetRole() is { } role && RolePermissions.Receives(role, MessageKind.AuditEvent));
        var isAdmin = new ClaimRule(AuditClaims.Role, "must be admin", u => u.GetRole() == Role.Admin);
        var erases = new ClaimRule(AuditClaims.Role, "must be compliance or admin to erase a data subject",
            u => u.GetRole() is Role.Compliance or Role.Admin);
        var mfa = MultiFactor.ErasureRule(options);
        var privileged = MultiFactor.PrivilegedRule(options);
        var allTenants = new ClaimRule(AuditClaims.Tenants, "must be \"*\": this covers every tenant", u => u.HasAllTenants());

        // Every policy, the default one included (RequireAuthorization() without a name), checks the tenant claims first,
        // then that a privileged role signed in with MFA.
        var tenant = new ValidTenantRequirement();
        services.AddAuthorizationBuilder()
            .SetDefaultPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().AddRequirements(tenant, privileged).Build())
            .AddPolicy(AuditClaims.IngestPolicy, p => p.RequireAuthenticatedUser().AddRequirements(tenant, privileged, canWrite))
            .AddPolicy(AuditClaims.ReadPolicy, p => p.RequireAuthenticatedUser().AddRequirements(tenant, privileged, readsEvents))
            .AddPolicy(AuditClaims.ErasurePolicy, p => p.RequireAuthenticatedUser().AddRequirements(tenant, erases, mfa))
            .AddPolicy(AuditClaims.AdminPolicy, p => p.RequireAuthenticatedUser().AddRequirements(tenant, privileged, isAdmin))
            .AddPolicy(AuditClaims.ServerAdminPolicy, p => p.RequireAuthenticatedUser().AddRequirements(tenant, privileged, isAdmin, allTenants));
    }

    private static void LogFailure(HttpContext http, string reason)
    {
        var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("AuditStream.Server.Auth");
        Log.AuthenticationFailed(logger, http.Request.Path, StreamEndpoints.RemoteAddress(http), reason);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 200, EventName = "AuthenticationFailed", Level = LogLevel.Warning,
            Message = "Authentication failed for {Path} from {RemoteAddress}: {Reason}")]
        public static partial void AuthenticationFailed(ILogger logger, string path, string? remoteAddress, string reason);
    }

    /// <summary>Loads a bare JWKS document as an OpenID configuration with only signing keys.</summary>
    private sealed class JwksRetriever : IConfigurationRetriever<OpenIdConnectConfiguration>
    {
        public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(string address, IDocumentRetriever retriever, CancellationToken cancel)
        {
            var json = await retriever.GetDocumentAsync(address, cancel);
            var configuration = new OpenIdConnectConfiguration();
            foreach (var key in new JsonWebKeySet(json).GetSigningKeys())
            {
                configuration.SigningKeys.Add(key);
            }

            return configuration;
        }
    }
}
