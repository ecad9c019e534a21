using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using AuditStream.Client;
using AuditStream.Events;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AuditStream.AspNetCore.Internal;

/// <summary>
/// Records each request as an audit event after it completed, handing it to the SDK's bounded buffer: the request never
/// waits on the network. Exclusion rules and sampling are decided before any allocation.
/// </summary>
internal sealed class AuditMiddleware
{
    private readonly RequestDelegate _next;
    private readonly AuditStreamClient _client;
    private readonly AuditMiddlewareOptions _options;
    private readonly string _service;

    public AuditMiddleware(RequestDelegate next, AuditStreamClient client, IOptions<AuditMiddlewareOptions> options, IHostEnvironment environment)
    {
        _next = next;
        _client = client;
        _options = options.Value;
        _service = _options.ServiceName ?? environment.ApplicationName;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var audited = context.GetEndpoint()?.Metadata.GetMetadata<AuditedAttribute>();
        if (audited is null && IsExcluded(context.Request))
        {
            await _next(context).ConfigureAwait(false);
            return;
        }

        var start = Stopwatch.GetTimestamp();
        var originalBody = context.Features.Get<IHttpResponseBodyFeature>()!;
        var body = new CountingBodyFeature(originalBody);
        context.Features.Set<IHttpResponseBodyFeature>(body);
        Exception? failure = null;
        try
        {
            await _next(context).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            failure = ex;
            throw;
        }
        finally
        {
            context.Features.Set(originalBody);
            Record(context, audited ?? context.GetEndpoint()?.Metadata.GetMetadata<AuditedAttribute>(), failure, body.Bytes, Stopwatch.GetElapsedTime(start));
        }
    }

    private bool IsExcluded(HttpRequest request)
    {
        foreach (var method in _options.ExcludeMethods)
        {
            if (string.Equals(method, request.Method, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        var path = request.Path;
        foreach (var prefix in _options.ExcludePaths)
        {
            if (path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        if (_options.IncludePaths.Count == 0)
        {
            return false;
        }

        foreach (var prefix in _options.IncludePaths)
        {
            if (path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return true;
    }

    private void Record(HttpContext context, AuditedAttribute? audited, Exception? failure, long bytes, TimeSpan duration)
    {
        // An exception escaping the pipeline becomes a 500 unless the response had already started.
        var status = failure is not null && !context.Response.HasStarted ? StatusCodes.Status500InternalServerError : context.Response.StatusCode;
        var failed = failure is not null || status >= 400;
        if (audited is null)
        {
            if (_options.ExcludeStatusClasses.Contains(status / 100))
            {
                return;
            }

            if (!failed && _options.SamplingRate < 1.0 && Random.Shared.NextDouble() >= _options.SamplingRate)
            {
                return;
            }
        }

        var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;
        var request = context.Request;
        var userId = RequestContext.UserId(context.User);
        var target = audited?.TargetRouteValue is { } name && context.GetRouteValue(name) is { } value
            ? Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)
            : route ?? request.Path.Value;
        var auditEvent = new AuditEvent
        {
            Type = audited?.EventType ?? _options.EventType,
            Severity = failure is not null || status >= 500 ? "error" : status >= 400 ? "warning" : audited?.Severity ?? "info",
            Category = audited?.Category ?? _options.Category,
            ActorId = userId ?? "anonymous",
            ActorType = userId is null ? "anonymous" : "user",
            TargetId = RequestContext.Truncate(target, 256),
            TargetType = "http.route",
            Action = request.Method,
            Outcome = failed ? "failure" : "success",
            OccurredAt = DateTimeOffset.UtcNow,
            Source = RequestContext.Source(context, _service),
            Metadata = Metadata(request, route, status, duration, bytes > 0 ? bytes : context.Response.ContentLength ?? 0, failure),
        };
        _client.Enqueue(auditEvent);
    }

    private JsonElement Metadata(HttpRequest request, string? route, int status, TimeSpan duration, long bytes, Exception? failure)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("method", request.Method);
            if (route is not null)
            {
                writer.WriteString("route", route);
            }

            writer.WriteString("path", RequestContext.Truncate(request.Path.Value, 1024));
            writer.WriteNumber("status", status);
            writer.WriteNumber("duration_ms", Math.Round(duration.TotalMilliseconds, 3));
            writer.WriteNumber("response_bytes", bytes);
            if (failure is not null)
            {
                writer.WriteString("exception_type", failure.GetType().FullName);
                writer.WriteString("exception_message", RequestContext.Truncate(failure.Message, 2048));
                if (_options.RecordStackTraces)
                {
                    writer.WriteString("exception_stack", RequestContext.Truncate(failure.StackTrace, 16 * 1024));
                }
            }

            writer.WriteEndObject();
        }

        return JsonElement.Parse(buffer.WrittenSpan);
    }
}
