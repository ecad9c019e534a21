using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;

namespace SignalRPeer;

/// <summary>Sends every queued event to all hub clients, one <c>Clients.All.SendAsync</c> per event, in arrival order.</summary>
internal sealed class Broadcaster(Channel<JsonElement[]> queue, IHubContext<EventHub> hub) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var batch in queue.Reader.ReadAllAsync(stoppingToken))
        {
            foreach (var element in batch)
            {
                await hub.Clients.All.SendAsync("event", element, stoppingToken);
            }
        }
    }
}
