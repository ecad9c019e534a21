using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AuditStream.Ledger.Cluster;

namespace AuditStream.Server.Cluster;

/// <summary>
/// The credential of an append forwarded between instances: HMAC-SHA256 over the time it was sent, the tenant the
/// follower checked the caller against, the response shape and the body, under a key only the cluster's instances hold
/// (<see cref="ClusterOptions.Secret"/>, or derived from the shared checkpoint signing key). No user token is accepted in
/// its place, and none is needed: the leader trusts the tenant because the credential covers it.
/// </summary>
internal sealed class ClusterCredential
{
    public const string TimeHeader = "X-AuditStream-Cluster-Time";
    public const string TenantHeader = "X-AuditStream-Cluster-Tenant";
    public const string SingleHeader = "X-AuditStream-Cluster-Single";
    public const string SignatureHeader = "X-AuditStream-Cluster-Signature";

    /// <summary>The shape header's values: one event answered as one receipt, a batch, or the server's own append (<see cref="ClusterForwarder.AppendAsync"/>) answered with the writer's result.</summary>
    public const string SingleShape = "1", BatchShape = "0", InternalShape = "internal";

    /// <summary>The tenant header's value for a caller whose token grants every tenant.</summary>
    public const string AllTenants = "*";

    /// <summary>How far the sender's clock may be from the receiver's.</summary>
    public static readonly TimeSpan MaxSkew = TimeSpan.FromMinutes(1);

    private readonly byte[] _key;
    private readonly TimeProvider _time;

    public ClusterCredential(byte[] key, TimeProvider time)
    {
        _key = key;
        _time = time;
    }

    /// <summary>Adds the time, tenant, shape and signature headers for <paramref name="body"/> to <paramref name="request"/>.</summary>
    public void Sign(HttpRequestMessage request, string? tenant, string shape, ReadOnlySpan<byte> body)
    {
        var time = _time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var tenantValue = tenant ?? AllTenants;
        request.Headers.Add(TimeHeader, time);
        request.Headers.Add(TenantHeader, Uri.EscapeDataString(tenantValue));
        request.Headers.Add(SingleHeader, shape);
        request.Headers.Add(SignatureHeader, Convert.ToHexStringLower(Mac(time, tenantValue, shape, body)));
    }

    /// <summary>
    /// Checks the headers of <paramref name="request"/> against <paramref name="body"/>: null and the tenant (null for every
    /// tenant) and shape when they are the cluster's, else the rule that failed.
    /// </summary>
    public (string? Rule, string? Tenant, string Shape) Verify(HttpRequest request, ReadOnlySpan<byte> body)
    {
        var headers = request.Headers;
        string? time = headers[TimeHeader], tenant = headers[TenantHeader], shape = headers[SingleHeader], signature = headers[SignatureHeader];
        if (time is null || tenant is null || shape is null || signature is null)
        {
            return ($"must carry the cluster credential headers {TimeHeader}, {TenantHeader}, {SingleHeader} and {SignatureHeader} (user tokens are not accepted here)", null, "");
        }

        if (!long.TryParse(time, NumberStyles.None, CultureInfo.InvariantCulture, out var sentMs)
            || (_time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(sentMs, 0, 253_402_300_799_999))).Duration() > MaxSkew)
        {
            return ($"{TimeHeader} must be the sending time in Unix milliseconds, within {MaxSkew.TotalSeconds} s of this instance's clock", null, "");
        }

        var tenantValue = Uri.UnescapeDataString(tenant);
        byte[] given;
        try
        {
            given = Convert.FromHexString(signature);
        }
        catch (FormatException)
        {
            given = [];
        }

        if (!CryptographicOperations.FixedTimeEquals(given, Mac(time, tenantValue, shape, body)))
        {
            return ($"{SignatureHeader} must be the HMAC-SHA256 of the request under the cluster's key (AuditStream:Cluster:Secret, or the shared signing key)", null, "");
        }

        return (null, tenantValue == AllTenants ? null : tenantValue, shape);
    }

    private byte[] Mac(string time, string tenant, string shape, ReadOnlySpan<byte> body)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);
        hmac.AppendData(Encoding.UTF8.GetBytes($"auditstream-forward-v1\n{time}\n{tenant}\n{shape}\n"));
        hmac.AppendData(body);
        return hmac.GetHashAndReset();
    }
}
