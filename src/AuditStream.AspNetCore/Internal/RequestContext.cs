using System.Diagnostics;
using System.Security.Claims;
using AuditStream.Events;
using Microsoft.AspNetCore.Http;

namespace AuditStream.AspNetCore.Internal;

/// <summary>What an audit event takes from the current request: who acted and where it came from.</summary>
internal static class RequestContext
{
    public static string? UserId(ClaimsPrincipal? user)
    {
        if (user?.Identity?.IsAuthenticated != true)
        {
            return null;
        }

        return user.FindFirst(ClaimTypes.NameIdentifier)?.Value ?? user.FindFirst("sub")?.Value ?? user.Identity.Name;
    }

    public static EventSource Source(HttpContext context, string? service) => new()
    {
        Service = service,
        Ip = context.Connection.RemoteIpAddress?.ToString(),
        UserAgent = Truncate(context.Request.Headers.UserAgent.ToString(), 512),
        RequestId = context.TraceIdentifier,
        TraceId = Activity.Current?.TraceId.ToHexString(),
    };

    public static string? Truncate(string? value, int max) =>
        string.IsNullOrEmpty(value) ? null : value.Length <= max ? value : value[..max];
}
