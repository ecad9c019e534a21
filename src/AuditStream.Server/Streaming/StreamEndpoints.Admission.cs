using AuditStream.Server.Api;
using AuditStream.Server.Auth;
using AuditStream.Streaming.Clients;
using AuditStream.Streaming.Hub;

namespace AuditStream.Server.Streaming;

/// <summary>Admission of a checked stream caller: the connection rate limit, then a hub slot (DESIGN.md §5 limits).</summary>
internal static partial class StreamEndpoints
{
    /// <summary>
    /// Reserves a hub slot for the authenticated caller (DESIGN.md §5 limits), or answers the refusal and returns null:
    /// 429 when the caller's own share is used up (<c>MaxClientsPerSubject</c>, <c>MaxClientsPerAddress</c>), 503 when the
    /// server is full or stopping, each with <c>Retry-After</c> and a problem that names the limit and its key. A refusal
    /// the connection layer already decided for this very request (<see cref="Connections.PendingRefusal"/>) is answered
    /// as decided, so the limits count each attempt once.
    /// </summary>
    internal static async Task<ClientTicket?> AdmitAsync(HttpContext http, StreamHub hub, string transport)
    {
        IResult? problem;
        string? reason;
        if (Connections.PendingRefusal.Take(http) is { } pending)
        {
            (problem, reason) = (pending.Problem, pending.Reason);
        }
        else if (Admit(http, hub, out problem, out reason) is { } ticket)
        {
            return ticket;
        }

        await problem!.ExecuteAsync(http);
        RecordRefusal(http, transport, http.Response.StatusCode, reason);
        return null;
    }

    /// <summary>
    /// Takes a permit of the connection rate limits and a hub slot for the authenticated caller; null with the problem to
    /// answer and the refusal's reason when either is refused. Answers nothing itself.
    /// </summary>
    internal static ClientTicket? Admit(HttpContext http, StreamHub hub, out IResult? problem, out string? reason)
    {
        if (http.RequestServices.GetRequiredService<Hosting.RateLimits.LayeredRateLimiter>().Acquire(http, "connections") is { } limited)
        {
            (problem, reason) = (limited, "rate_limited");
            return null;
        }

        var role = http.User.GetRole() ?? AuditStream.Security.Role.User;
        if (hub.TryAdmit(role, SubjectKey(http.User), AddressKey(http), out var ticket, out var refusal))
        {
            (problem, reason) = (null, null);
            return ticket;
        }

        var options = hub.Options;
        reason = refusal;
        problem = refusal switch
        {
            HubMetrics.RefusalReasons.MaxClientsPerSubject => Problems.StreamLimit(
                StatusCodes.Status429TooManyRequests,
                $"This token's subject already holds {options.MaxClientsPerSubject} stream connections.",
                "sub",
                $"at most {options.MaxClientsPerSubject} stream connections per token subject ({HubOptions.SectionName}:{nameof(HubOptions.MaxClientsPerSubject)})"),
            HubMetrics.RefusalReasons.MaxClientsPerAddress => Problems.StreamLimit(
                StatusCodes.Status429TooManyRequests,
                $"This address already holds {options.MaxClientsPerAddress} stream connections.",
                "remote_address",
                $"at most {options.MaxClientsPerAddress} stream connections per remote address, admin and security exempt ({HubOptions.SectionName}:{nameof(HubOptions.MaxClientsPerAddress)})"),
            HubMetrics.RefusalReasons.ReservedForPrivileged => Problems.StreamLimit(
                StatusCodes.Status503ServiceUnavailable,
                $"Only the {hub.ReservedPrivilegedClients} stream connections kept for admin and security are free.",
                "role",
                $"the last {hub.ReservedPrivilegedClients} of {options.MaxClients} stream connections ({HubOptions.SectionName}:{nameof(HubOptions.MaxClients)}) are kept for admin and security ({HubOptions.SectionName}:{nameof(HubOptions.ReservedPrivilegedShare)})"),
            HubMetrics.RefusalReasons.MaxClients => Problems.StreamLimit(
                StatusCodes.Status503ServiceUnavailable,
                $"The server holds {options.MaxClients} stream connections, its most.",
                "connections",
                $"at most {options.MaxClients} stream connections in all ({HubOptions.SectionName}:{nameof(HubOptions.MaxClients)})"),
            _ => Problems.StreamLimit(StatusCodes.Status503ServiceUnavailable, "The server is stopping.", "server", "no new stream connections while the server stops"),
        };
        return null;
    }
}
