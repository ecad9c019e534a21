using AuditStream.Client.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AuditStream.Client.Tests;

public sealed class RegistrationTests
{
    [Fact]
    public async Task AddAuditStreamClient_binds_configuration_and_publishes_through_the_http_client_factory()
    {
        await using var server = await RestartableServer.StartAsync();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AuditStream:Client:BaseAddress"] = server.BaseAddress.ToString(),
            ["AuditStream:Client:Token"] = server.ProducerToken(),
            ["AuditStream:Client:BatchSize"] = "250",
        }).Build();
        var services = new ServiceCollection();
        services.AddAuditStreamClient(configuration);
        await using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<AuditStreamClient>();
        Assert.Equal(250, client.Options.BatchSize);
        var receipt = await client.PublishAsync(Sample.Event(1));
        Assert.Equal(1, receipt.Seq);
    }

    [Fact]
    public void Invalid_options_name_the_setting()
    {
        var services = new ServiceCollection();
        services.AddAuditStreamClient(o => o.BatchSize = 5_000);
        using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<AuditStreamClientOptions>>().Value);
        Assert.Contains("BaseAddress is required", ex.Message, StringComparison.Ordinal);
        Assert.Contains("BatchSize must be between 1 and 1000", ex.Message, StringComparison.Ordinal);
    }
}
