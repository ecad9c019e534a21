using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AuditStream.Benchmarks;

/// <summary>A fast local Elasticsearch stand-in on loopback: reads each request body and answers <c>{"errors":false}</c>.</summary>
internal static class BenchEndpoint
{
    private static readonly byte[] s_reply = """{"took":1,"errors":false,"items":[]}"""u8.ToArray();

    /// <summary>Starts the endpoint; <paramref name="onBytes"/> is told how many body bytes each read returned.</summary>
    public static async Task<(WebApplication App, Uri Url)> StartAsync(Action<int>? onBytes = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Run(async context =>
        {
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
            {
                onBytes?.Invoke(read);
            }

            context.Response.ContentType = "application/json";
            await context.Response.Body.WriteAsync(s_reply);
        });
        await app.StartAsync();
        var url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
        return (app, url);
    }
}
