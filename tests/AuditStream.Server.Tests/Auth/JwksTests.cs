using System.Net;
using System.Security.Cryptography;
using AuditStream.Server.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AuditStream.Server.Tests.Auth;

public sealed class JwksTests
{
    [Fact]
    public async Task Production_tokens_are_rs256_and_es256_signed_by_keys_from_a_jwks_url()
    {
        using var rsa = RSA.Create(2048);
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rsaKey = new RsaSecurityKey(rsa) { KeyId = "rsa-1" };
        var ecKey = new ECDsaSecurityKey(ecdsa) { KeyId = "ec-1" };
        var jwks = System.Text.Json.JsonSerializer.Serialize(new
        {
            keys = new[] { Public(JsonWebKeyConverter.ConvertFromRSASecurityKey(rsaKey)), Public(JsonWebKeyConverter.ConvertFromECDsaSecurityKey(ecKey)) },
        });

        // The identity provider: a JWKS document on a loopback port.
        var idp = WebApplication.CreateSlimBuilder();
        idp.WebHost.UseUrls("http://127.0.0.1:0");
        await using var idpApp = idp.Build();
        idpApp.MapGet("/jwks.json", () => Results.Text(jwks, "application/json"));
        await idpApp.StartAsync();
        var jwksUrl = idpApp.Urls.First() + "/jwks.json";

        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Auth:JwksUrl"] = jwksUrl,
            ["AuditStream:Auth:Issuer"] = "https://idp.example",
            ["AuditStream:Auth:AllowInsecureMetadata"] = "true",
        });

        string Sign(SecurityKey key, string algorithm) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "https://idp.example",
            Audience = "auditstream",
            Expires = DateTime.UtcNow.AddMinutes(10),
            Claims = new Dictionary<string, object> { ["role"] = "auditor", ["tenant"] = "acme", ["sub"] = "svc" },
            SigningCredentials = new SigningCredentials(key, algorithm),
        });

        async Task<HttpStatusCode> Read(string token)
        {
            using var client = server.Client(token);
            return (await client.GetAsync("api/v1/events")).StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await Read(Sign(rsaKey, SecurityAlgorithms.RsaSha256)));
        Assert.Equal(HttpStatusCode.OK, await Read(Sign(ecKey, SecurityAlgorithms.EcdsaSha256)));

        // The development HS256 path is off once an external issuer is configured.
        Assert.Equal(HttpStatusCode.Unauthorized, await Read(server.Token("admin", "*")));
        using var otherRsa = RSA.Create(2048);
        Assert.Equal(HttpStatusCode.Unauthorized, await Read(Sign(new RsaSecurityKey(otherRsa) { KeyId = "rsa-1" }, SecurityAlgorithms.RsaSha256)));
    }

    [Fact]
    public async Task Production_tokens_are_validated_against_an_oidc_authority_discovered_over_http()
    {
        using var rsa = RSA.Create(2048);
        var rsaKey = new RsaSecurityKey(rsa) { KeyId = "oidc-1" };
        var jwks = System.Text.Json.JsonSerializer.Serialize(new { keys = new[] { Public(JsonWebKeyConverter.ConvertFromRSASecurityKey(rsaKey)) } });

        var idp = WebApplication.CreateSlimBuilder();
        idp.WebHost.UseUrls("http://127.0.0.1:0");
        await using var idpApp = idp.Build();
        string Issuer() => idpApp.Urls.First();
        idpApp.MapGet("/.well-known/openid-configuration", () => Results.Text(
            System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["issuer"] = Issuer(), ["jwks_uri"] = Issuer() + "/keys" }),
            "application/json"));
        idpApp.MapGet("/keys", () => Results.Text(jwks, "application/json"));
        await idpApp.StartAsync();

        await using var server = await TestServer.StartAsync(new Dictionary<string, string?>
        {
            ["AuditStream:Auth:Authority"] = Issuer(),
            ["AuditStream:Auth:AllowInsecureMetadata"] = "true",
        });

        string Sign(string issuer) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = "auditstream",
            Expires = DateTime.UtcNow.AddMinutes(10),
            Claims = new Dictionary<string, object> { ["role"] = "auditor", ["tenant"] = "acme", ["sub"] = "svc" },
            SigningCredentials = new SigningCredentials(rsaKey, SecurityAlgorithms.RsaSha256),
        });

        async Task<HttpStatusCode> Read(string token)
        {
            using var client = server.Client(token);
            return (await client.GetAsync("api/v1/events")).StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await Read(Sign(Issuer())));
        Assert.Equal(HttpStatusCode.Unauthorized, await Read(Sign("https://someone-else.example")));
        Assert.Equal(HttpStatusCode.Unauthorized, await Read(server.Token("admin", "*")));
    }

    private static Dictionary<string, string?> Public(JsonWebKey key) => new Dictionary<string, string?>
    {
        ["kty"] = key.Kty,
        ["kid"] = key.Kid,
        ["n"] = key.N,
        ["e"] = key.E,
        ["crv"] = key.Crv,
        ["x"] = key.X,
        ["y"] = key.Y,
    }.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value);
}
