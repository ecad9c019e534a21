using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace AuditStream.Server.Witness;

/// <summary>The HTTP face of <c>auditstream witness</c>: <c>POST /add-checkpoint</c> (submission and monitoring prefix are the root).</summary>
internal static class WitnessHost
{
    /// <summary>A witness request is a checkpoint and at most 63 hashes; anything far larger is refused unread.</summary>
    private const long MaxBodyBytes = 64 * 1024;

    /// <summary>Starts the witness on <paramref name="url"/> (port 0 picks one) and returns the running app and its address.</summary>
    public static async Task<(WebApplication App, Uri Address)> StartAsync(WitnessService witness, string url, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(url);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = MaxBodyBytes);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/add-checkpoint", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var answer = witness.AddCheckpoint(await reader.ReadToEndAsync(context.RequestAborted));
            context.Response.StatusCode = answer.Status;
            context.Response.ContentType = answer.ContentType;
            await context.Response.WriteAsync(answer.Body, context.RequestAborted);
        });
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address));
    }
}
