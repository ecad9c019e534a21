namespace AuditStream.Server.Auth;

/// <summary>Claim names and values AuditStream reads from tokens.</summary>
public static class AuditClaims
{
    /// <summary>One of admin, security, compliance, operator, auditor, user.</summary>
    public const string Role = "role";

    /// <summary>The caller's tenant.</summary>
    public const string Tenant = "tenant";

    /// <summary><c>*</c> grants every tenant.</summary>
    public const string Tenants = "tenants";

    /// <summary>Space-separated scopes; <c>audit:write</c> allows ingest.</summary>
    public const string Scope = "scope";

    /// <summary>The scope that allows posting events.</summary>
    public const string WriteScope = "audit:write";

    /// <summary>Authorization policy: may post events.</summary>
    public const string IngestPolicy = "audit:ingest";

    /// <summary>Authorization policy: may read audit events.</summary>
    public const string ReadPolicy = "audit:read";

    /// <summary>Authentication methods (RFC 8176); erasure requires <see cref="Mfa"/> among them.</summary>
    public const string AuthenticationMethods = "amr";

    /// <summary>The <c>amr</c> value of a multi-factor sign-in.</summary>
    public const string Mfa = "mfa";

    /// <summary>Authorization policy: may erase a data subject (compliance or admin, signed in with MFA).</summary>
    public const string ErasurePolicy = "privacy:erase";

    /// <summary>Authorization policy: admin only.</summary>
    public const string AdminPolicy = "audit:admin";

    /// <summary>Authorization policy: an admin whose token grants all tenants (server-wide state: the sinks, the debug stats, metrics and configuration).</summary>
    public const string ServerAdminPolicy = "audit:server-admin";
}
