using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AuditStream.Server.Tests.Support;

internal static class Json
{
    public static StringContent Content(string json, string mediaType = "application/json") => new(json, Encoding.UTF8, mediaType);

    public static string Event(int i, string type = "data.accessed", string severity = "info", string category = "data", string? extra = null) =>
        $$"""{"type":"{{type}}","severity":"{{severity}}","category":"{{category}}","actor_id":"user-{{i}}","target_id":"record-{{i}}","action":"read","outcome":"success"{{(extra is null ? "" : "," + extra)}}}""";

    public static async Task<JsonNode> ReadAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

    public static async Task<JsonNode> PostEventsAsync(HttpClient client, params string[] events)
    {
        using var response = await client.PostAsync("api/v1/events", Content("[" + string.Join(',', events) + "]"));
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{(int)response.StatusCode}: {body}");
        }

        return JsonNode.Parse(body)!;
    }

    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web);

    public static Task<T?> As<T>(HttpResponseMessage response) => response.Content.ReadFromJsonAsync<T>(Options);
}
