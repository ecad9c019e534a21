using System.Text.Json;
using AuditStream.Server.Auth;
using AuditStream.Server.Hosting;

namespace AuditStream.Server.Api;

/// <summary>
/// <c>POST /api/v1/subjects/{subject_id}/erasure</c>: erasure of a data subject by crypto-shredding, within the caller's
/// tenant (compliance or admin, MFA), answered with the signed erasure certificate; a re-POST re-issues it.
/// </summary>
internal static class ErasureEndpoints
{
    public static void MapErasure(this IEndpointRouteBuilder app) =>
        app.MapPost("/api/v1/subjects/{subject_id}/erasure", EraseAsync).RequireAuthorization(AuditClaims.ErasurePolicy);

    private static async Task<IResult> EraseAsync(string subject_id, HttpContext http, LedgerService ledgers, CancellationToken cancellationToken)
    {
        var user = http.User;
        string tenant;
        if (user.HasAllTenants())
        {
            // An all-tenant token names the tenant it erases in; anyone else erases in their own tenant only.
            if (http.Request.Query["tenant_id"].ToString() is not { Length: > 0 } named)
            {
                return Problems.BadRequest("A token for every tenant names the subject's tenant.", "tenant_id", "is required with an all-tenant token");
            }

            tenant = named;
        }
        else
        {
            tenant = user.GetTenant()!;
        }

        if (subject_id.Length is 0 or > 256)
        {
            return Problems.BadRequest("The subject id is the subject_id of its events.", "subject_id", "must be 1 to 256 characters");
        }

        AuditStream.Ledger.Privacy.ErasureCertificate? certificate;
        try
        {
            certificate = await ledgers.Ledger.Erasure.EraseAsync(tenant, subject_id, user.GetSubject(), cancellationToken);
        }
        catch (InvalidOperationException e)
        {
            return Problems.Unavailable(e.Message, 1);
        }

        // The same answer for a subject of another tenant as for one that never existed: existence is not disclosed.
        return certificate is null
            ? Problems.NotFound($"No data subject '{subject_id}' with personal data is known in this tenant.")
            : new CertificateResult(certificate);
    }

    /// <summary><c>{"certificate": {…}, "signed_note": "…", "repeated": bool}</c>.</summary>
    private sealed class CertificateResult(AuditStream.Ledger.Privacy.ErasureCertificate certificate) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.ContentType = "application/json; charset=utf-8";
            await using var writer = new Utf8JsonWriter(httpContext.Response.BodyWriter);
            writer.WriteStartObject();
            writer.WritePropertyName("certificate"u8);
            writer.WriteRawValue(certificate.Certificate);
            writer.WriteString("signed_note"u8, certificate.SignedNote);
            writer.WriteBoolean("repeated"u8, certificate.Repeated);
            writer.WriteEndObject();
            await writer.FlushAsync();
        }
    }
}
