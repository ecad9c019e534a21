using System.CommandLine;
using System.Text.Json;
using AuditStream.Client;
using AuditStream.Client.Streaming;
using AuditStream.Events;
using AuditStream.Filters;
using AuditStream.Validation;
using Spectre.Console;

namespace AuditStream.Server.Cli;

/// <summary>
/// <c>auditstream tail</c>: follows a server's live stream from a terminal, as colored lines or NDJSON, reconnecting
/// and resuming like the SDK (no gap, no duplicate across disconnects). It prints the ledger id on connecting;
/// <c>--since N --ledger-id X</c> resumes exactly there on any instance of that ledger, and is refused by another ledger.
/// </summary>
internal static class TailCommand
{
    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "Server base address", DefaultValueFactory = _ => "http://localhost:8080" };
        var token = new Option<string>("--token") { Description = "Bearer token with a reading role. Default: $AUDITSTREAM_TOKEN" };
        var since = new Option<long?>("--since") { Description = "Replay every matching event after this seq first (0 = from the start); default: live only" };
        var ledgerId = new Option<string>("--ledger-id") { Description = "The ledger --since counts in (tail prints it on connecting); a server on another ledger refuses the resume" };
        var json = new Option<bool>("--json") { Description = "Print one event object per line (NDJSON) instead of readable lines" };
        var count = new Option<int?>("--count") { Description = "Exit after this many events" };
        var eventTypes = new Option<string[]>("--event-types") { Description = "Event types, or prefixes like auth.* (comma-separated or repeated)", AllowMultipleArgumentsPerToken = true };
        var severities = new Option<string[]>("--severities") { Description = "critical, error, warning, info", AllowMultipleArgumentsPerToken = true };
        var categories = new Option<string[]>("--categories") { Description = "Categories", AllowMultipleArgumentsPerToken = true };
        var actors = new Option<string[]>("--actor-ids") { Description = "Actor ids", AllowMultipleArgumentsPerToken = true };
        var targets = new Option<string[]>("--target-ids") { Description = "Target ids", AllowMultipleArgumentsPerToken = true };
        var match = new Option<string[]>("--match") { Description = "field:op:value (ops eq, neq, in, prefix, exists, gt, lt); repeatable" };
        var complianceOnly = new Option<bool>("--compliance-only") { Description = "Only events with a compliance tag or category compliance" };
        var securityOnly = new Option<bool>("--security-only") { Description = "Only security events (category security, types auth.* and security.*)" };
        var command = new Command("tail", "Follow the live stream of a running server (reconnects and resumes without gaps or duplicates).")
        {
            url, token, since, ledgerId, json, count, eventTypes, severities, categories, actors, targets, match, complianceOnly, securityOnly,
        };
        command.SetAction((result, cancellationToken) =>
        {
            var query = new List<KeyValuePair<string, string?>>();
            void Add(string key, string[]? values) => query.AddRange((values ?? []).Select(v => new KeyValuePair<string, string?>(key, v)));
            Add("event_types", result.GetValue(eventTypes));
            Add("severities", result.GetValue(severities));
            Add("categories", result.GetValue(categories));
            Add("actor_ids", result.GetValue(actors));
            Add("target_ids", result.GetValue(targets));
            Add("match", result.GetValue(match));
            if (result.GetValue(complianceOnly))
            {
                query.Add(new("compliance_only", "true"));
            }

            if (result.GetValue(securityOnly))
            {
                query.Add(new("security_only", "true"));
            }

            var errors = new List<ValidationError>();
            var filter = StreamFilter.FromQuery(query, errors);
            if (errors.Count == 0)
            {
                FilterValidator.Validate(filter, int.MaxValue, errors);
            }

            if (errors.Count > 0)
            {
                Console.Error.WriteLine(string.Join(Environment.NewLine, errors.Select(e => $"filter: {e}")));
                return Task.FromResult(2);
            }

            var server = result.GetValue(url)!;
            if (!Uri.TryCreate(server, UriKind.Absolute, out var address) || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
            {
                Console.Error.WriteLine($"--url must be an http or https address, not '{server}'.");
                return Task.FromResult(2);
            }

            var resumeLedger = result.GetValue(ledgerId);
            if (resumeLedger is not null && result.GetValue(since) is null)
            {
                Console.Error.WriteLine("--ledger-id names the ledger --since counts in: give --since too.");
                return Task.FromResult(2);
            }

            return RunAsync(address, result.GetValue(token) ?? Environment.GetEnvironmentVariable("AUDITSTREAM_TOKEN"),
                query.Count == 0 ? null : filter, result.GetValue(since), resumeLedger, result.GetValue(json), result.GetValue(count), cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(Uri address, string? token, StreamFilter? filter, long? since, string? ledgerId, bool json, int? count, CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        await using var client = new AuditStreamClient(http, new AuditStreamClientOptions { BaseAddress = address, Token = token });
        var console = AnsiConsole.Create(new AnsiConsoleSettings());
        if (Console.IsOutputRedirected)
        {
            // One event per line when piped (grep, a file): never wrap at a guessed terminal width.
            console.Profile.Width = 100_000;
        }

        var printed = 0;
        string? connectedTo = null;
        var messages = ledgerId is not null && since is { } resumeAt
            ? client.SubscribeAsync(filter, resumeAt, ledgerId, cancellationToken)
            : client.SubscribeAsync(filter, since, cancellationToken);
        try
        {
            await foreach (var message in messages)
            {
                switch (message)
                {
                    case ConnectionEstablishedMessage established when established.LedgerId is { } id && id != connectedTo:
                        // On stderr, beside the events: what to pass as --ledger-id (with --since) to resume later.
                        connectedTo = id;
                        Console.Error.WriteLine($"connected to ledger {id} (last seq {established.LastSeq})");
                        break;
                    case EventMessage e:
                        if (json)
                        {
                            Console.Out.WriteLine(JsonSerializer.Serialize(e.Event, AuditJsonContext.Default.AuditEvent));
                        }
                        else
                        {
                            console.MarkupLine(Line(e));
                        }

                        if (++printed == count)
                        {
                            return 0;
                        }

                        break;
                    case GapMessage gap:
                        Console.Error.WriteLine($"gap: matching events in seq {gap.FromSeq}..{gap.ToSeq} were not sent ({gap.Reason})");
                        break;
                    case ReconnectingMessage reconnecting:
                        Console.Error.WriteLine($"disconnected ({reconnecting.Reason}); reconnecting in {reconnecting.Delay.TotalSeconds:F1} s" +
                            (reconnecting.ResumeAfterSeq is { } seq ? $", resuming after seq {seq}" : ""));
                        break;
                    case ErrorMessage error:
                        Console.Error.WriteLine($"server: {error.Code}: {error.Message}");
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 0;
        }
        catch (AuditStreamException ex)
        {
            Console.Error.WriteLine(ex.Message);
            return 1;
        }

        return 0;
    }

    private static string Line(EventMessage message)
    {
        var e = message.Event;
        var color = e.Severity switch
        {
            "critical" => "bold red",
            "error" => "red",
            "warning" => "yellow",
            _ => "green",
        };
        var time = (e.Timestamp ?? default).ToString("yyyy-MM-dd HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture);
        return $"[grey]{message.Seq,8}[/] [grey]{time}[/] [{color}]{Markup.Escape((e.Severity ?? "").PadRight(8))}[/] " +
            $"[bold]{Markup.Escape(e.Type ?? "")}[/] {Markup.Escape(e.ActorId ?? "-")} -> {Markup.Escape(e.TargetId ?? "-")}" +
            $"{(e.Outcome is { } outcome ? $" [{(outcome == "failure" ? "red" : "grey")}]{Markup.Escape(outcome)}[/]" : "")}" +
            $" [grey]{Markup.Escape(e.Category ?? "")}[/]";
    }
}
