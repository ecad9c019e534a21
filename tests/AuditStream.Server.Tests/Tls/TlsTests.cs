using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using AuditStream.Server.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AuditStream.Server.Tests.Tls;

/// <summary>HTTPS and WSS over real Kestrel with certificates made in the test: headers, redirect, reload, mTLS producers.</summary>
public sealed class TlsTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "auditstream-tls-tests", Guid.NewGuid().ToString("N"));
    private readonly X509Certificate2 _authority = TestCertificates.Authority("AuditStream Test CA");

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Https_serves_the_api_with_hsts_and_security_headers_and_the_console_keeps_its_policy()
    {
        await using var server = await StartAsync();
        Assert.Equal("https", server.BaseAddress.Scheme);
        using var client = TestCertificates.HttpClient(server.BaseAddress, _authority);

        using var response = await client.GetAsync("api/v1/ledger/public-key");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("max-age=31536000", response.Headers.GetValues("Strict-Transport-Security").Single());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("default-src 'none'; frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single());

        using var console = await client.GetAsync("");
        Assert.Equal(HttpStatusCode.OK, console.StatusCode);
        Assert.Equal(AuditStream.Server.WebConsole.WebConsoleFiles.ContentSecurityPolicy, console.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Fact]
    public async Task Plain_http_is_redirected_to_the_https_address_when_configured()
    {
        await using var server = await StartAsync(new() { ["AuditStream:Tls:RedirectHttp"] = "true" }, urls: "https://127.0.0.1:0;http://127.0.0.1:0");
        var http = server.Addresses.Single(a => a.Scheme == "http");
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = http };

        using var response = await client.PostAsync("api/v1/events", Json.Content(Json.Event(1)));

        Assert.Equal(HttpStatusCode.TemporaryRedirect, response.StatusCode);
        Assert.Equal(new Uri(server.BaseAddress, "api/v1/events"), response.Headers.Location);
        Assert.False(response.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task Wss_stream_connects_below_HTTP_with_hsts_on_its_101_and_delivers_events()
    {
        var counter = new RequestCounter();
        await using var server = await StartAsync(services: s => s.AddSingleton<Microsoft.AspNetCore.Hosting.IStartupFilter>(counter));
        using var socket = new ClientWebSocket();
        socket.Options.RemoteCertificateValidationCallback = TestCertificates.TrustOnly(_authority);
        socket.Options.CollectHttpResponseDetails = true;
        using var cts = new CancellationTokenSource(Timeout);
        var address = new Uri($"wss://127.0.0.1:{server.BaseAddress.Port}/ws/audit?token={Uri.EscapeDataString(server.Token("admin", "*"))}");
        await socket.ConnectAsync(address, cts.Token);
        Assert.Equal("audit.connection.established", (await ReceiveAsync(socket, cts.Token))["type"]!.GetValue<string>());
        Assert.Equal("max-age=31536000", socket.HttpResponseHeaders!["Strict-Transport-Security"].Single());
        Assert.Equal(0, counter.Count);

        using var producer = TestCertificates.HttpClient(server.BaseAddress, _authority);
        producer.DefaultRequestHeaders.Authorization = new("Bearer", server.ProducerToken());
        await Json.PostEventsAsync(producer, Json.Event(7));

        JsonNode message;
        do
        {
            message = await ReceiveAsync(socket, cts.Token);
        }
        while (message["type"]!.GetValue<string>() != "audit.event.published");
        Assert.Equal("user-7", message["audit_event"]!["actor_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_renewed_certificate_is_served_to_new_connections_without_a_restart()
    {
        await using var server = await StartAsync(new() { ["AuditStream:Tls:ReloadInterval"] = "00:00:00.100" });
        var first = await ServedThumbprintAsync(server);
        Assert.Equal(_first!.Thumbprint, first);

        var renewed = TestCertificates.Server(_authority, "auditstream-renewed");
        TestCertificates.WritePem(renewed, _directory, "server");

        var deadline = DateTime.UtcNow + Timeout;
        string served;
        do
        {
            served = await ServedThumbprintAsync(server);
        }
        while (served != renewed.Thumbprint && DateTime.UtcNow < deadline && await Task.Delay(50).ContinueWith(_ => true));

        Assert.Equal(renewed.Thumbprint, served);
    }

    [Fact]
    public async Task A_pair_that_does_not_load_keeps_the_previous_certificate()
    {
        await using var server = await StartAsync(new() { ["AuditStream:Tls:ReloadInterval"] = "00:00:00.100" });

        // A renewal caught half-way: the new certificate beside the old key.
        var renewed = TestCertificates.Server(_authority, "auditstream-renewed");
        TestCertificates.WriteCertificatePem(renewed, Path.Combine(_directory, "server.crt"));

        // Several reload intervals pass; every handshake still succeeds with the old certificate.
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(_first!.Thumbprint, await ServedThumbprintAsync(server));
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task An_https_address_without_a_certificate_is_a_configuration_error_naming_the_key()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => TestServer.StartAsync(urls: "https://127.0.0.1:0"));
        Assert.Contains("AuditStream:Tls:CertificatePath", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_producer_certificate_authenticates_ingest_for_its_mapped_tenant()
    {
        await using var server = await StartMtlsAsync();
        var certificate = TestCertificates.Client(_authority, "billing-service", "spiffe://acme.example/billing");
        using var producer = TestCertificates.HttpClient(server.BaseAddress, _authority, certificate);

        var receipt = await Json.PostEventsAsync(producer, Json.Event(1));
        var seq = receipt["events"]![0]!["seq"]!.GetValue<long>();
        using var reader = TestCertificates.HttpClient(server.BaseAddress, _authority);
        reader.DefaultRequestHeaders.Authorization = new("Bearer", server.Token("admin", "*"));
        var stored = Json.ReadAsync(await reader.GetAsync($"api/v1/events/{seq}"));
        Assert.Equal("acme", (await stored)["tenant_id"]!.GetValue<string>());

        // The mapped tenant is enforced like a token's.
        using var foreign = await producer.PostAsync("api/v1/events", Json.Content(Json.Event(2, extra: "\"tenant_id\":\"globex\"")));
        Assert.Equal(HttpStatusCode.Forbidden, foreign.StatusCode);
        Assert.Equal("tenant_id", (await Json.ReadAsync(foreign))["errors"]![0]!["field"]!.GetValue<string>());

        // A producer certificate writes; it reads nothing.
        using var read = await producer.GetAsync("api/v1/events");
        Assert.Equal(HttpStatusCode.Unauthorized, read.StatusCode);
    }

    [Fact]
    public async Task A_client_certificate_from_another_ca_is_refused_naming_the_rule()
    {
        await using var server = await StartMtlsAsync();
        var stranger = TestCertificates.Client(TestCertificates.Authority("Someone Else's CA"), "billing-service", "spiffe://acme.example/billing");
        using var producer = TestCertificates.HttpClient(server.BaseAddress, _authority, stranger);

        using var response = await producer.PostAsync("api/v1/events", Json.Content(Json.Event(1)));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var error = (await Json.ReadAsync(response))["errors"]![0]!;
        Assert.Equal("client_certificate", error["field"]!.GetValue<string>());
        Assert.Contains("must chain to a CA in AuditStream:Tls:ClientCertificates:CaPath", error["rule"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, server.Ledger.Head.Size);
    }

    [Fact]
    public async Task A_trusted_certificate_that_maps_to_no_producer_is_refused_naming_the_mapping()
    {
        await using var server = await StartMtlsAsync();
        var unmapped = TestCertificates.Client(_authority, "someone", "spiffe://acme.example/someone");
        using var producer = TestCertificates.HttpClient(server.BaseAddress, _authority, unmapped);

        using var response = await producer.PostAsync("api/v1/events", Json.Content(Json.Event(1)));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var error = (await Json.ReadAsync(response))["errors"]![0]!;
        Assert.Equal("client_certificate", error["field"]!.GetValue<string>());
        Assert.Contains("AuditStream:Tls:ClientCertificates:Producers", error["rule"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_client_certificate_a_bearer_token_still_works_and_wins_over_a_certificate()
    {
        await using var server = await StartMtlsAsync();
        using var plain = TestCertificates.HttpClient(server.BaseAddress, _authority);
        plain.DefaultRequestHeaders.Authorization = new("Bearer", server.ProducerToken("globex"));
        var receipt = await Json.PostEventsAsync(plain, Json.Event(1));
        Assert.Equal(1, receipt["events"]![0]!["seq"]!.GetValue<long>());

        using var none = TestCertificates.HttpClient(server.BaseAddress, _authority);
        using var refused = await none.PostAsync("api/v1/events", Json.Content(Json.Event(2)));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        // Certificate and token: the token is the identity (its tenant globex, not the certificate's acme).
        var certificate = TestCertificates.Client(_authority, "billing-service", "spiffe://acme.example/billing");
        using var both = TestCertificates.HttpClient(server.BaseAddress, _authority, certificate);
        both.DefaultRequestHeaders.Authorization = new("Bearer", server.ProducerToken("globex"));
        var second = await Json.PostEventsAsync(both, Json.Event(3));
        var seq = second["events"]![0]!["seq"]!.GetValue<long>();
        Assert.Equal("globex", (await server.Ledger.Store.GetAsync(seq, CancellationToken.None))!.Event.TenantId);
    }

    private X509Certificate2? _first;

    private Task<TestServer> StartMtlsAsync() => StartAsync(new()
    {
        ["AuditStream:Tls:ClientCertificates:CaPath"] = TestCertificates.WriteCertificatePem(_authority, Path.Combine(Directory.CreateDirectory(_directory).FullName, "producers-ca.crt")),
        ["AuditStream:Tls:ClientCertificates:Producers:0:Uri"] = "spiffe://acme.example/billing",
        ["AuditStream:Tls:ClientCertificates:Producers:0:Producer"] = "billing",
        ["AuditStream:Tls:ClientCertificates:Producers:0:Tenant"] = "acme",
    });

    private Task<TestServer> StartAsync(Dictionary<string, string?>? settings = null, string urls = "https://127.0.0.1:0", Action<IServiceCollection>? services = null)
    {
        _first = TestCertificates.Server(_authority);
        var (certificate, key) = TestCertificates.WritePem(_first, _directory, "server");
        settings ??= [];
        settings["AuditStream:Tls:CertificatePath"] = certificate;
        settings["AuditStream:Tls:KeyPath"] = key;
        return TestServer.StartAsync(settings, services, urls: urls);
    }

    private async Task<string> ServedThumbprintAsync(TestServer server)
    {
        using var tcp = new TcpClient();
        using var cts = new CancellationTokenSource(Timeout);
        await tcp.ConnectAsync(IPAddress.Loopback, server.BaseAddress.Port, cts.Token);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(TestCertificates.ClientOptions(_authority), cts.Token);
        return X509CertificateLoader.LoadCertificate(tls.RemoteCertificate!.GetRawCertData()).Thumbprint;
    }

    private static async Task<JsonNode> ReceiveAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[1 << 16];
        var count = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer.AsMemory(count), cancellationToken);
            count += result.Count;
        }
        while (!result.EndOfMessage);

        return JsonNode.Parse(Encoding.UTF8.GetString(buffer, 0, count))!;
    }
}
