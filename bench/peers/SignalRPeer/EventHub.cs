using Microsoft.AspNetCore.SignalR;

namespace SignalRPeer;

/// <summary>The broadcast hub: clients only listen for <c>event</c> invocations.</summary>
internal sealed class EventHub : Hub;
