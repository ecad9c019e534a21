using System.Net;
using System.Text.Json;
using AuditStream.Checkpoints;
using AuditStream.Client.Publishing;
using AuditStream.Client.Streaming;
using AuditStream.Client.Verification;
using AuditStream.Events;
using AuditStream.Filters;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AuditStream.Client;

/// <summary>
/// The .NET client of an AuditStream server: publishes events (awaiting the receipt, or fire-and-forget through a
/// bounded buffer or a spool), follows the live stream across disconnects, and verifies that an event is in the log.
/// One instance per application; thread-safe.
/// </summary>
public sealed partial class AuditStreamClient : IAsyncDisposable
{
    private static readonly TimeSpan s_dropLogInterval = TimeSpan.FromSeconds(10);

    private readonly Func<HttpClient> _http;
    private readonly AuditStreamClientOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly EventPoster _poster;
    private readonly ClientMetrics _metrics = new();
    private readonly Lock _startLock = new();
    private readonly CancellationTokenSource _stopping = new();
    private IOutbox? _outbox;
    private BackgroundSender? _sender;
    private Task? _senderTask;
    private long _lastDropLog = long.MinValue;
    private bool _disposed;

    /// <summary>Creates a client over <paramref name="httpClient"/> (its base address is not used; <see cref="AuditStreamClientOptions.BaseAddress"/> is).</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message names each bad setting.</exception>
    public AuditStreamClient(HttpClient httpClient, AuditStreamClientOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
        : this(() => httpClient, options, loggerFactory, timeProvider)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
    }

    /// <summary>Creates a client whose requests go through the <see cref="IHttpClientFactory"/> client named <see cref="AuditStreamClientOptions.HttpClientName"/>.</summary>
    public AuditStreamClient(IHttpClientFactory httpClientFactory, IOptions<AuditStreamClientOptions> options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
        : this(() => httpClientFactory.CreateClient(AuditStreamClientOptions.HttpClientName), (options ?? throw new ArgumentNullException(nameof(options))).Value, loggerFactory, timeProvider)
    {
        ArgumentNullException.ThrowIfNull(httpClientFactory);
    }

    private AuditStreamClient(Func<HttpClient> http, AuditStreamClientOptions options, ILoggerFactory? loggerFactory, TimeProvider? timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        _http = http;
        _options = options;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<AuditStreamClient>();
        _time = timeProvider ?? TimeProvider.System;
        _poster = new EventPoster(http, options);

        // A spool left by an earlier run is drained as soon as the client exists, not at the first Enqueue.
        if (options.SpoolDirectory is not null)
        {
            EnsureSender();
        }
    }

    /// <summary>The options in force.</summary>
    public AuditStreamClientOptions Options => _options;

    /// <summary>Events <see cref="Enqueue"/> refused because the buffer or spool was full (also the counter <c>auditstream.client.events.dropped</c>).</summary>
    public long DroppedEvents => _metrics.DroppedCount;

    /// <summary>Events the background sender got committed.</summary>
    public long SentEvents => _metrics.SentCount;

    /// <summary>Enqueued events the server refused as invalid (logged, then dropped).</summary>
    public long RejectedEvents => _metrics.RejectedCount;

    /// <summary>
    /// Appends one event and returns its receipt once the server committed it. Sets <see cref="AuditEvent.Id"/> (UUIDv7)
    /// when absent, so retrying a call whose answer was lost cannot write the event twice.
    /// </summary>
    /// <exception cref="AuditStreamException">The server refused the event (the message says why), or answered with an error.</exception>
    public async Task<AuditReceipt> PublishAsync(AuditEvent auditEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        var receipts = await PublishAsync([auditEvent], cancellationToken).ConfigureAwait(false);
        return receipts[0];
    }

    /// <summary>Appends events atomically (all or none, at most 1,000) and returns their receipts in order once committed.</summary>
    /// <exception cref="AuditStreamException">The server refused the events (every invalid index, field and rule is in the message).</exception>
    public async Task<IReadOnlyList<AuditReceipt>> PublishAsync(IReadOnlyList<AuditEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (events.Count == 0)
        {
            return [];
        }

        var withIds = events.Select(WithId).ToList();
        try
        {
            return await _poster.PostAsync(withIds, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidEventsException ex)
        {
            throw new AuditStreamException(ex.Message, ex.Status, ex.Problem);
        }
    }

    /// <summary>
    /// Hands an event to the background sender and returns at once: never blocks on the network. The event goes to the
    /// spool file when <see cref="AuditStreamClientOptions.SpoolDirectory"/> is set, else to a bounded memory buffer,
    /// and is sent in batches, retried until committed. Returns false, and counts the drop, when the buffer is full.
    /// </summary>
    public bool Enqueue(AuditEvent auditEvent)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        if (_disposed || !EnsureSender().TryAdd(WithId(auditEvent)))
        {
            var dropped = _metrics.Dropped();
            var now = _time.GetTimestamp();
            var last = Interlocked.Read(ref _lastDropLog);
            if ((last == long.MinValue || _time.GetElapsedTime(last, now) >= s_dropLogInterval)
                && Interlocked.CompareExchange(ref _lastDropLog, now, last) == last)
            {
                Log.Dropping(_logger, dropped, _options.SpoolDirectory is null ? $"BufferSize {_options.BufferSize}" : $"MaxSpoolBytes {_options.MaxSpoolBytes}");
            }

            return false;
        }

        return true;
    }

    /// <summary>Waits until every event enqueued so far (and any left in the spool by an earlier run) was committed or rejected.</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_sender is null)
        {
            return Task.CompletedTask;
        }

        return _sender.FlushAsync(_senderTask!, cancellationToken);
    }

    /// <summary>
    /// Follows the live stream at <c>/ws/audit</c>: every matching event after <paramref name="sinceSeq"/> (or, without it,
    /// from now on) exactly once and in seq order, across disconnects and server restarts. Reconnects with exponential
    /// backoff and jitter, telling the caller with a <see cref="ReconnectingMessage"/>. Ends only when
    /// <paramref name="cancellationToken"/> is cancelled or the server refuses the subscription itself
    /// (<see cref="AuditStreamException"/>: bad filters, bad token, or a reconnect that reached another ledger: the
    /// subscription remembers the ledger id of <see cref="ConnectionEstablishedMessage.LedgerId"/> and resumes by it).
    /// </summary>
    public IAsyncEnumerable<StreamMessage> SubscribeAsync(StreamFilter? filters = null, long? sinceSeq = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (sinceSeq < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(sinceSeq), sinceSeq, "since_seq must be 0 or more.");
        }

        return new StreamSubscriber(_options, _logger, StreamVerifier()).RunAsync(filters, sinceSeq, null, cancellationToken);
    }

    /// <summary>
    /// Resumes a position saved earlier, the seq <paramref name="sinceSeq"/> of the ledger <paramref name="ledgerId"/>
    /// (<see cref="ConnectionEstablishedMessage.LedgerId"/>), on any instance of that ledger; otherwise as
    /// <see cref="SubscribeAsync(StreamFilter?, long?, CancellationToken)"/>. A server on another ledger refuses it with
    /// <c>ledger_mismatch</c>, which ends the subscription with an <see cref="AuditStreamException"/> naming both ids.
    /// </summary>
    public IAsyncEnumerable<StreamMessage> SubscribeAsync(StreamFilter? filters, long sinceSeq, string ledgerId, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(sinceSeq);
        ArgumentException.ThrowIfNullOrWhiteSpace(ledgerId);
        return new StreamSubscriber(_options, _logger, StreamVerifier()).RunAsync(filters, sinceSeq, ledgerId, cancellationToken);
    }

    /// <summary>The verifier of a proof-carrying stream when <see cref="AuditStreamClientOptions.VerifyStreamProofs"/> is set.</summary>
    private StreamProofVerifier? StreamVerifier() => _options.VerifyStreamProofs
        ? new StreamProofVerifier(
            NoteVerifier.Parse(_options.TrustedPublicKey ?? throw new InvalidOperationException(
                "VerifyStreamProofs needs AuditStreamClientOptions.TrustedPublicKey, the checkpoint key (GET /api/v1/ledger/public-key) you obtained and trust.")),
            _options.Witnesses,
            GetStringAsync)
        : null;

    /// <summary>
    /// Proves that the receipt's event is in the log without trusting the server: fetches the latest signed checkpoint
    /// and an inclusion proof for it, checks the checkpoint's signature with <see cref="AuditStreamClientOptions.TrustedPublicKey"/>,
    /// and the proof from the receipt's own hash to the checkpoint's root.
    /// </summary>
    /// <exception cref="InvalidOperationException">No <see cref="AuditStreamClientOptions.TrustedPublicKey"/> is configured.</exception>
    public Task<InclusionVerification> VerifyInclusionAsync(AuditReceipt receipt, CancellationToken cancellationToken = default) =>
        VerifyInclusionAsync(receipt, _options.TrustedPublicKey ?? throw new InvalidOperationException(
            "Set AuditStreamClientOptions.TrustedPublicKey to the checkpoint key (GET /api/v1/ledger/public-key) you obtained and trust."), cancellationToken);

    /// <summary>As <see cref="VerifyInclusionAsync(AuditReceipt, CancellationToken)"/>, trusting <paramref name="trustedPublicKey"/> (a note verifier key).</summary>
    /// <exception cref="FormatException"><paramref name="trustedPublicKey"/> is not a note verifier key.</exception>
    public async Task<InclusionVerification> VerifyInclusionAsync(AuditReceipt receipt, string trustedPublicKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        var key = NoteVerifier.Parse(trustedPublicKey);
        var signed = await GetStringAsync("api/v1/ledger/checkpoint", cancellationToken).ConfigureAwait(false);
        var opened = new CheckpointVerifier(key).Open(signed);
        if (!opened.Succeeded)
        {
            return InclusionVerification.Fail($"checkpoint: {opened.ErrorCode}: {opened.Error}");
        }

        var treeSize = opened.Checkpoint!.TreeSize;
        if (treeSize < receipt.Seq)
        {
            return InclusionVerification.Fail($"the latest checkpoint covers {treeSize} events, not yet seq {receipt.Seq}; retry in a moment", opened.Checkpoint);
        }

        var proofJson = await GetStringAsync(FormattableString.Invariant($"api/v1/ledger/proofs/inclusion?seq={receipt.Seq}&tree_size={treeSize}"), cancellationToken).ConfigureAwait(false);
        var proof = JsonSerializer.Deserialize(proofJson, ClientJsonContext.Default.InclusionProofDto)
            ?? throw new AuditStreamException("The server answered an empty inclusion proof.");
        return InclusionCheck.Verify(receipt, signed, proof, key, _options.Witnesses);
    }

    /// <summary>
    /// Reads the event at <paramref name="seq"/> with its proof in one request and checks it without trusting the server:
    /// the checkpoint's signature with <see cref="AuditStreamClientOptions.TrustedPublicKey"/>, the inclusion proof from the
    /// event's <c>hash</c> to the checkpoint's root, and that the event's own content hashes to that <c>hash</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">No <see cref="AuditStreamClientOptions.TrustedPublicKey"/> is configured.</exception>
    /// <exception cref="AuditStreamException">The server refused the read (404 for a seq this token may not see).</exception>
    public async Task<VerifiedEvent> GetVerifiedEventAsync(long seq, CancellationToken cancellationToken = default)
    {
        var key = NoteVerifier.Parse(_options.TrustedPublicKey ?? throw new InvalidOperationException(
            "Set AuditStreamClientOptions.TrustedPublicKey to the checkpoint key (GET /api/v1/ledger/public-key) you obtained and trust."));
        var json = await GetStringAsync(FormattableString.Invariant($"api/v1/events/{seq}?proof=true"), cancellationToken).ConfigureAwait(false);
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var e = root.GetProperty("event").Clone();
        var proof = root.GetProperty("proof");
        var hash = e.TryGetProperty("hash", out var h) ? h.GetString() ?? "" : "";
        var dto = new InclusionProofDto(
            seq,
            proof.GetProperty("leaf_index").GetInt64(),
            proof.GetProperty("tree_size").GetInt64(),
            hash,
            "",
            "",
            [.. proof.GetProperty("hashes").EnumerateArray().Select(x => x.GetString() ?? "")]);
        var receipt = new AuditReceipt(Guid.Empty, seq, hash, default, false);
        var inclusion = InclusionCheck.Verify(receipt, root.GetProperty("checkpoint").GetString() ?? "", dto, key, _options.Witnesses);
        var content = ContentCheck.Verify(e);
        return new VerifiedEvent(e, inclusion, content is null, content);
    }

    private async Task<string> GetStringAsync(string relative, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_options.Base, relative));
        await EventPoster.AuthorizeAsync(request, _options, cancellationToken).ConfigureAwait(false);
        using var response = await _http().SendAsync(request, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw EventPoster.Failure(response.StatusCode, body);
        }

        return body;
    }

    /// <summary>Sends what is buffered (for at most <see cref="AuditStreamClientOptions.ShutdownTimeout"/>), then stops. A spool keeps the rest for the next run.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_outbox is not null)
        {
            _outbox.Complete();
            using var timeout = new CancellationTokenSource(_options.ShutdownTimeout);
            try
            {
                await _senderTask!.WaitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Log.ShutdownTimedOut(_logger, _options.ShutdownTimeout.TotalSeconds, _options.SpoolDirectory is not null);
            }

            await _stopping.CancelAsync().ConfigureAwait(false);
            await _senderTask!.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            _outbox.Dispose();
        }

        _stopping.Dispose();
        _metrics.Dispose();
    }

    private IOutbox EnsureSender()
    {
        if (_outbox is { } outbox)
        {
            return outbox;
        }

        lock (_startLock)
        {
            if (_outbox is null)
            {
                IOutbox created = _options.SpoolDirectory is { } directory
                    ? new SpoolOutbox(directory, _options.MaxSpoolBytes, _options.SpoolSegmentBytes, _logger)
                    : new MemoryOutbox(_options.BufferSize);
                _sender = new BackgroundSender(created, _poster, _options, _logger, _metrics);
                _senderTask = Task.Run(() => _sender.RunAsync(_stopping.Token));
                _outbox = created;
            }

            return _outbox;
        }
    }

    private static AuditEvent WithId(AuditEvent auditEvent) =>
        auditEvent.Id is null ? auditEvent with { Id = Guid.CreateVersion7() } : auditEvent;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Audit events are being dropped: the buffer is full ({Limit}); {Dropped} dropped so far. Is the AuditStream server reachable?", EventName = "EventsDropped")]
        public static partial void Dropping(ILogger logger, long dropped, string limit);

        [LoggerMessage(2, LogLevel.Warning, "Stopped after {Seconds} s with audit events unsent (kept in the spool: {Spooled}).", EventName = "ShutdownTimedOut")]
        public static partial void ShutdownTimedOut(ILogger logger, double seconds, bool spooled);
    }
}
