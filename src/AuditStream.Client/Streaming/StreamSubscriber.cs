using System.Buffers;
using System.Net;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using AuditStream.Client.Publishing;
using AuditStream.Filters;
using Microsoft.Extensions.Logging;

namespace AuditStream.Client.Streaming;

/// <summary>
/// Follows <c>/ws/audit</c> across disconnects: reconnects with exponential backoff and jitter, resuming with
/// <c>since_seq</c> = the last seq it yielded (and <c>ledger_id</c>, the ledger that seq counts in), and drops anything
/// at or below it, so the caller sees every matching seq once and in order; a server on another ledger ends it.
/// </summary>
/// <remarks>
/// With a <see cref="Verification.StreamProofVerifier"/> it asks for proofs and checks every checkpoint and event
/// (docs/stream-proofs.md); it then resumes before the first event still waiting for its proof, feeding the repeats to
/// the verifier only, so a reconnect does not leave events unverified.
/// </remarks>
internal sealed partial class StreamSubscriber(AuditStreamClientOptions options, ILogger logger, Verification.StreamProofVerifier? verifier = null)
{
    private const string ProofBacklog = "proof_backlog";

    private static readonly TimeSpan s_closeTimeout = TimeSpan.FromSeconds(2);

    // The audit.error code of a resume on another ledger than the one the seq counts in.
    private const string LedgerMismatch = "ledger_mismatch";

    public async IAsyncEnumerable<StreamMessage> RunAsync(StreamFilter? filter, long? sinceSeq, string? ledgerId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var backoff = new Backoff(options.RetryMinDelay, options.RetryMaxDelay);
        var filterJson = filter is null ? null : JsonSerializer.Serialize(filter, StreamFilterJsonContext.Default.StreamFilter);

        // A time range that starts in the past replays from its start; "live from last_seq" would skip that replay.
        var replaysByTime = filter?.TimeRange is { } range && (range.Start is not null || range.Relative is not null);
        long? lastSeq = sinceSeq;
        long? establishedLastSeq = null;
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var resumeFrom = ResumeFrom(lastSeq ?? (replaysByTime ? null : establishedLastSeq));
            var (socket, failure) = await ConnectAsync(resumeFrom, resumeFrom is null ? null : ledgerId, filterJson, cancellationToken).ConfigureAwait(false);
            if (socket is not null)
            {
                try
                {
                    while (true)
                    {
                        var (message, closed) = await ReceiveAsync(socket, buffer, cancellationToken).ConfigureAwait(false);
                        if (message is null)
                        {
                            failure = closed;
                            break;
                        }

                        switch (message)
                        {
                            case ConnectionEstablishedMessage established:
                                if (verifier is not null && !established.Proofs)
                                {
                                    throw new AuditStreamException("The server did not agree to a proof-carrying stream (no proofs: true in audit.connection.established); it cannot be verified.");
                                }

                                verifier?.Reconnected();
                                establishedLastSeq ??= established.LastSeq;
                                ledgerId ??= established.LedgerId;
                                backoff.Reset();
                                break;
                            case ErrorMessage { Code: LedgerMismatch } mismatch:
                                // Resuming here would mix two ledgers' seqs: stop and say so rather than retry.
                                throw new AuditStreamException($"The server refused to resume the subscription on another ledger: {mismatch.Message}");
                            case CheckpointMessage checkpoint when verifier is not null:
                                await verifier.AcceptAsync(checkpoint, cancellationToken).ConfigureAwait(false);
                                break;
                            case EventProofMessage proof when verifier is not null:
                                if (verifier.Observe(proof) is { } proved)
                                {
                                    yield return proved;
                                }

                                continue;
                            case ErrorMessage { Code: ProofBacklog, FromSeq: { } from, ToSeq: { } to }:
                                verifier?.GiveUp(from, to);
                                break;
                            case EventMessage e when e.Seq <= lastSeq:
                                if (verifier?.Observe(e) is { } again)
                                {
                                    yield return again;
                                }

                                continue;
                            case EventMessage e:
                                lastSeq = e.Seq;
                                yield return e;
                                if (verifier?.Observe(e) is { } verified)
                                {
                                    yield return verified;
                                }

                                continue;
                            case GapMessage gap when gap.ToSeq > (lastSeq ?? 0):
                                lastSeq = gap.ToSeq;
                                break;
                        }

                        yield return message;
                    }
                }
                finally
                {
                    await CloseAsync(socket).ConfigureAwait(false);
                    socket.Dispose();
                }
            }

            var delay = backoff.Next();
            resumeFrom = ResumeFrom(lastSeq ?? (replaysByTime ? null : establishedLastSeq));
            Log.Reconnecting(logger, failure ?? "closed", delay.TotalMilliseconds, resumeFrom);
            yield return new ReconnectingMessage(failure ?? "closed", delay, backoff.Attempt, resumeFrom);
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<(ClientWebSocket? Socket, string? Failure)> ConnectAsync(long? sinceSeq, string? ledgerId, string? filterJson, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(30);
        var token = await EventPoster.TokenAsync(options, cancellationToken).ConfigureAwait(false);
        if (token is not null)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        }

        var query = new List<string>();
        if (sinceSeq is { } seq)
        {
            query.Add("since_seq=" + seq.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (ledgerId is not null)
        {
            query.Add("ledger_id=" + Uri.EscapeDataString(ledgerId));
        }

        if (filterJson is not null)
        {
            query.Add("filters=" + Uri.EscapeDataString(filterJson));
        }

        if (verifier is not null)
        {
            query.Add("proofs=true");
        }

        var uri = Address(options.Base, query);
        try
        {
            await socket.ConnectAsync(uri, cancellationToken).ConfigureAwait(false);
            return (socket, null);
        }
        catch (Exception ex) when (ex is WebSocketException or HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
        {
            var status = socket.HttpStatusCode;
            socket.Dispose();
            if (status is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                // Retrying the same request cannot succeed: say why instead.
                throw new AuditStreamException(
                    status switch
                    {
                        HttpStatusCode.BadRequest => "The server refused the subscription (400): the filters or since_seq are invalid.",
                        HttpStatusCode.Unauthorized => "The server refused the subscription (401): the token is missing, expired or not trusted.",
                        _ => "The server refused the subscription (403): the token grants no tenant.",
                    },
                    status);
            }

            return (null, status is { } s and not 0 ? $"connect refused: {(int)s} {s}" : $"connect failed: {ex.Message}");
        }
    }

    /// <summary>Where to resume: after <paramref name="seq"/>, or before the first event still waiting for its proof.</summary>
    private long? ResumeFrom(long? seq) =>
        verifier?.FirstAwaiting is { } first && seq is { } s ? Math.Min(s, first - 1) : seq;

    internal static Uri Address(Uri baseAddress, IReadOnlyCollection<string> query)
    {
        var builder = new UriBuilder(new Uri(baseAddress, "ws/audit"))
        {
            Scheme = baseAddress.Scheme == Uri.UriSchemeHttps ? "wss" : "ws",
            Query = string.Join('&', query),
        };
        return builder.Uri;
    }

    private static async Task<(StreamMessage? Message, string? Closed)> ReceiveAsync(ClientWebSocket socket, ArrayBufferWriter<byte> buffer, CancellationToken cancellationToken)
    {
        buffer.ResetWrittenCount();
        try
        {
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.GetMemory(8 * 1024), cancellationToken).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    if (socket.CloseStatus == WebSocketCloseStatus.PolicyViolation)
                    {
                        throw new AuditStreamException($"The server closed the stream for a policy violation: {socket.CloseStatusDescription}.");
                    }

                    return (null, $"closed by the server: {(int?)socket.CloseStatus} {socket.CloseStatusDescription}");
                }

                buffer.Advance(result.Count);
            }
            while (!result.EndOfMessage);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException && !cancellationToken.IsCancellationRequested)
        {
            return (null, $"connection lost: {ex.Message}");
        }

        return (StreamMessageParser.Parse(buffer.WrittenSpan), null);
    }

    private static async Task CloseAsync(ClientWebSocket socket)
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(s_closeTimeout);
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The peer is gone; nothing to close.
        }
    }

    private static partial class Log
    {
        [LoggerMessage(20, LogLevel.Information, "Audit stream disconnected ({Reason}); reconnecting in {DelayMs:F0} ms from seq {ResumeFrom}.", EventName = "StreamReconnecting")]
        public static partial void Reconnecting(ILogger logger, string reason, double delayMs, long? resumeFrom);
    }
}
