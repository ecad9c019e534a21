using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace AuditStream.Server.Tests.Support;

/// <summary>Counts the requests that enter the HTTP pipeline (first in it, as a startup filter).</summary>
internal sealed class RequestCounter : IStartupFilter
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((http, inner) =>
        {
            Interlocked.Increment(ref _count);
            return inner(http);
        });
        next(app);
    };
}
