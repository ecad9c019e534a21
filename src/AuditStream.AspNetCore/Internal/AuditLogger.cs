using System.Buffers;
using System.Text.Json;
using AuditStream.Client;
using AuditStream.Events;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AuditStream.AspNetCore.Internal;

/// <summary>The <see cref="IAuditLogger"/> that completes events from the current request and enqueues them.</summary>
internal sealed class AuditLogger(AuditStreamClient client, IHttpContextAccessor accessor, IOptions<AuditMiddlewareOptions> options, IHostEnvironment environment) : IAuditLogger
{
    private readonly string _service = options.Value.ServiceName ?? environment.ApplicationName;

    public bool Log(AuditEvent auditEvent)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        var context = accessor.HttpContext;
        var userId = context is null ? null : RequestContext.UserId(context.User);
        return client.Enqueue(auditEvent with
        {
            Severity = auditEvent.Severity ?? "info",
            Category = auditEvent.Category ?? options.Value.Category,
            ActorId = auditEvent.ActorId ?? userId,
            ActorType = auditEvent.ActorType ?? (auditEvent.ActorId is null && userId is not null ? "user" : null),
            OccurredAt = auditEvent.OccurredAt ?? DateTimeOffset.UtcNow,
            Source = auditEvent.Source ?? (context is null ? new EventSource { Service = _service } : RequestContext.Source(context, _service)),
        });
    }

    public bool Log(string type, string? targetId = null, string? category = null, string severity = "info", string outcome = "success", IReadOnlyDictionary<string, object?>? metadata = null) =>
        Log(new AuditEvent
        {
            Type = type,
            TargetId = targetId,
            Category = category,
            Severity = severity,
            Outcome = outcome,
            Metadata = metadata is null ? null : ToElement(metadata),
        });

    private static JsonElement ToElement(IReadOnlyDictionary<string, object?> metadata)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in metadata)
            {
                writer.WritePropertyName(key);
                switch (value)
                {
                    case null:
                        writer.WriteNullValue();
                        break;
                    case string s:
                        writer.WriteStringValue(s);
                        break;
                    case bool b:
                        writer.WriteBooleanValue(b);
                        break;
                    case int or long or short or byte or uint or ulong or ushort or sbyte:
                        writer.WriteNumberValue(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
                        break;
                    case double or float or decimal:
                        writer.WriteNumberValue(Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture));
                        break;
                    case JsonElement element:
                        element.WriteTo(writer);
                        break;
                    default:
                        writer.WriteStringValue(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
                        break;
                }
            }

            writer.WriteEndObject();
        }

        return JsonElement.Parse(buffer.WrittenSpan);
    }
}
