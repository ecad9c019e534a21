using System.CommandLine;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AuditStream.Events;
using AuditStream.Ledger;
using AuditStream.Ledger.Cluster;
using AuditStream.Ledger.Writing;

namespace AuditStream.Server.Cli;

/// <summary>
/// <c>auditstream append</c>: reads NDJSON events from standard input and appends them — to a running server with
/// <c>--url</c>/<c>--token</c>, or directly to a local ledger directory (only while no server uses it). Prints one
/// receipt line (seq, id, hash) per event. Exit codes: 0 appended, 1 refused input, 2 bad options, 3 a shared ledger led by a
/// running server (nothing written; the message names the leader).
/// </summary>
internal static class AppendCommand
{
    private const int Batch = 1_000;

    public static Command Create()
    {
        var ledger = new LedgerLocation();
        var url = new Option<string>("--url") { Description = "Server base address, e.g. http://localhost:8080; without it the local --data ledger is written" };
        var token = new Option<string>("--token") { Description = "Bearer token with scope audit:write (for --url). Default: $AUDITSTREAM_TOKEN" };
        var tenant = new Option<string>("--tenant") { Description = "Tenant for events without tenant_id (local mode)" };
        var command = new Command("append", "Append NDJSON events read from standard input. Exit 3: the shared ledger is led by a running server (use --url).") { url, token, tenant };
        ledger.AddTo(command);
        command.SetAction((result, cancellationToken) => result.GetValue(url) is { } server
            ? RemoteAsync(new Uri(server.EndsWith('/') ? server : server + "/"), result.GetValue(token) ?? Environment.GetEnvironmentVariable("AUDITSTREAM_TOKEN"), cancellationToken)
            : LocalAsync(ledger, result, result.GetValue(tenant), cancellationToken));
        return command;
    }

    private static async Task<int> LocalAsync(LedgerLocation location, ParseResult parsed, string? tenant, CancellationToken cancellationToken)
    {
        if (location.Resolve(parsed) is not { } options)
        {
            return 2;
        }

        await using var ledger = await AuditLedger.OpenAsync(options, cancellationToken: cancellationToken);
        if (ledger.Cluster is { IsLeader: false } cluster)
        {
            // A running server holds the lease: this process would only be a second writer waiting for it.
            Console.Error.WriteLine(NotLeader(await cluster.ReadLeaderAsync(cancellationToken)));
            return 3;
        }

        var line = 0;
        await foreach (var batch in ReadBatchesAsync(cancellationToken))
        {
            var events = new AuditEvent[batch.Count];
            for (var i = 0; i < batch.Count; i++)
            {
                line++;
                try
                {
                    events[i] = JsonSerializer.Deserialize(batch[i], AuditJsonContext.Default.AuditEvent)
                        ?? throw new JsonException("null is not an event");
                }
                catch (JsonException ex)
                {
                    var error = Validation.EventValidator.ParseError(ex);
                    Console.Error.WriteLine($"line {line}: {error}");
                    return 1;
                }
            }

            var result = await ledger.AppendAsync(events, tenant, cancellationToken);
            if (result.IsInvalid)
            {
                foreach (var error in result.Errors)
                {
                    Console.Error.WriteLine($"line {line - batch.Count + error.Index + 1}: {error.Error}");
                }

                return 1;
            }

            if (result.Append!.Status == AppendStatus.IdConflict)
            {
                foreach (var conflict in result.Append.Conflicts)
                {
                    Console.Error.WriteLine($"line {line - batch.Count + conflict.Index + 1}: id is already used with different content{(conflict.Existing is { } e ? $" (seq {e.Seq})" : " in the same batch")}; nothing of this batch was written");
                }

                return 1;
            }

            if (result.Append.Status != AppendStatus.Committed)
            {
                Console.Error.WriteLine($"the ledger refused the batch: {result.Append.Status}");
                return 1;
            }

            foreach (var (receipt, duplicate) in result.Append.Events)
            {
                Console.WriteLine($"{receipt.Seq} {receipt.Id} {receipt.HashHex}{(duplicate ? " duplicate" : "")}");
            }
        }

        return 0;
    }

    /// <summary>Why a local append to a shared ledger led by a running instance is refused, and what to run instead.</summary>
    internal static string NotLeader(LeaderInfo leader)
    {
        var who = leader.Holder is null ? "another instance" : $"instance {leader.Holder}";
        var through = leader.AdvertisedUrl is { } url
            ? $"auditstream append --url {url} --token <token with audit:write>"
            : "auditstream append --url <any instance> --token <token with audit:write>";
        return $"the shared ledger is led by {who} (term {leader.Term}); nothing was appended. A local append writes only while no server holds the lease. Append through a server: {through}";
    }

    private static async Task<int> RemoteAsync(Uri server, string? token, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = server };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        await foreach (var batch in ReadBatchesAsync(cancellationToken))
        {
            using var content = new StringContent(string.Join('\n', batch), Encoding.UTF8, "application/x-ndjson");
            using var response = await http.PostAsync(new Uri("api/v1/events", UriKind.Relative), content, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                Console.Error.WriteLine($"{(int)response.StatusCode} {response.ReasonPhrase}: {body}");
                return 1;
            }

            using var document = JsonDocument.Parse(body);
            foreach (var receipt in document.RootElement.GetProperty("events").EnumerateArray())
            {
                Console.WriteLine($"{receipt.GetProperty("seq")} {receipt.GetProperty("id")} {receipt.GetProperty("hash")}{(receipt.GetProperty("duplicate").GetBoolean() ? " duplicate" : "")}");
            }
        }

        return 0;
    }

    private static async IAsyncEnumerable<List<string>> ReadBatchesAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var stdin = new StreamReader(Console.OpenStandardInput(), Encoding.UTF8);
        var batch = new List<string>(Batch);
        while (await stdin.ReadLineAsync(cancellationToken) is { } line)
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            batch.Add(line);
            if (batch.Count == Batch)
            {
                yield return batch;
                batch = new List<string>(Batch);
            }
        }

        if (batch.Count > 0)
        {
            yield return batch;
        }
    }
}
