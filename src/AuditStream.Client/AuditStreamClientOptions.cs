namespace AuditStream.Client;

/// <summary>Settings of an <see cref="AuditStreamClient"/>, bound from the <c>AuditStream:Client</c> configuration section.</summary>
public sealed class AuditStreamClientOptions
{
    /// <summary>The configuration section <c>AddAuditStreamClient(configuration)</c> binds.</summary>
    public const string SectionName = "AuditStream:Client";

    /// <summary>The server's base address, e.g. <c>http://localhost:8080/</c>.</summary>
    /// <value>Required; no default.</value>
    public Uri? BaseAddress { get; set; }

    /// <summary>A bearer token (JWT). Publishing needs the scope <c>audit:write</c>; subscribing and proofs need a reading role.</summary>
    /// <value>Default: none. Ignored when <see cref="TokenProvider"/> is set.</value>
    public string? Token { get; set; }

    /// <summary>Supplies a bearer token for each request and each stream connection (for tokens that expire and are renewed).</summary>
    /// <value>Default: none (then <see cref="Token"/> is used).</value>
    public Func<CancellationToken, ValueTask<string?>>? TokenProvider { get; set; }

    /// <summary>The most events sent in one request by the background sender of <see cref="AuditStreamClient.Enqueue"/>.</summary>
    /// <value>Default: 500 events; 1 to 1,000 (the server's per-request limit).</value>
    public int BatchSize { get; set; } = 500;

    /// <summary>
    /// How many batches the background sender keeps in flight at once. Batches may then commit out of order; events
    /// from one <see cref="AuditStreamClient.Enqueue"/> caller are not ordered by the SDK anyway. A spool always sends one
    /// batch at a time, oldest first.
    /// </summary>
    /// <value>Default: 4; 1 to 64.</value>
    public int MaxConcurrentBatches { get; set; } = 4;

    /// <summary>How long the background sender waits for a batch to fill once an event is waiting.</summary>
    /// <value>Default: 20 ms.</value>
    public TimeSpan Linger { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>The most enqueued events held in memory waiting to be sent; <see cref="AuditStreamClient.Enqueue"/> drops events beyond it.</summary>
    /// <value>Default: 10,000 events. Not used when <see cref="SpoolDirectory"/> is set.</value>
    public int BufferSize { get; set; } = 10_000;

    /// <summary>
    /// A local directory where enqueued events are appended before they are sent, so that a server outage or an
    /// application restart loses nothing. Drained oldest-first; files are deleted once the server committed them.
    /// </summary>
    /// <value>Default: none (events wait in memory only).</value>
    public string? SpoolDirectory { get; set; }

    /// <summary>The most bytes the spool may hold; <see cref="AuditStreamClient.Enqueue"/> drops events beyond it.</summary>
    /// <value>Default: 256 MiB.</value>
    public long MaxSpoolBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>The size at which the spool starts a new file.</summary>
    /// <value>Default: 4 MiB.</value>
    public long SpoolSegmentBytes { get; set; } = 4L * 1024 * 1024;

    /// <summary>The first delay before retrying a failed send or reconnecting the stream; it doubles per attempt, with jitter.</summary>
    /// <value>Default: 200 ms.</value>
    public TimeSpan RetryMinDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest delay between retries and reconnects.</summary>
    /// <value>Default: 30 s.</value>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long disposing the client waits for enqueued events to be sent before giving up (they stay in the spool, if any).</summary>
    /// <value>Default: 5 s.</value>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The checkpoint verifier key (<c>origin+keyid+base64</c>, from <c>GET /api/v1/ledger/public-key</c>) that
    /// <see cref="AuditStreamClient.VerifyInclusionAsync(AuditReceipt, CancellationToken)"/> trusts. Obtain it once
    /// out of band and pin it here: a key fetched from the same server proves nothing about that server.
    /// </summary>
    /// <value>Default: none.</value>
    public string? TrustedPublicKey { get; set; }

    /// <summary>
    /// When set, verified reads also require the checkpoint to be cosigned by enough witnesses (C2SP tlog-cosignature),
    /// e.g. <c>new WitnessPolicy(keys, quorum: 2)</c> for two of three.
    /// </summary>
    /// <value>Default: none (the log's signature alone).</value>
    public Verification.WitnessPolicy? Witnesses { get; set; }

    /// <summary>
    /// When true, <see cref="AuditStreamClient.SubscribeAsync(AuditStream.Filters.StreamFilter?, long?, CancellationToken)"/>
    /// asks for a proof-carrying stream (<c>proofs=true</c>) and verifies it against <see cref="TrustedPublicKey"/> (and
    /// <see cref="Witnesses"/>): each checkpoint's signature and its consistency with the largest one verified before
    /// (<c>GET /api/v1/ledger/proofs/consistency</c>), and each event's inclusion, reported as an
    /// <see cref="Streaming.EventVerifiedMessage"/>. A failure ends the subscription with a
    /// <see cref="Verification.StreamVerificationException"/> naming the seq or checkpoint and what failed.
    /// </summary>
    /// <value>Default: false.</value>
    public bool VerifyStreamProofs { get; set; }

    /// <summary>The name of the <see cref="IHttpClientFactory"/> client the SDK uses (to add handlers of your own).</summary>
    public const string HttpClientName = "AuditStream";

    internal IEnumerable<string> Validate()
    {
        if (BaseAddress is null)
        {
            yield return $"{nameof(BaseAddress)} is required (the server's address, e.g. http://localhost:8080/).";
        }
        else if (!BaseAddress.IsAbsoluteUri || (BaseAddress.Scheme != Uri.UriSchemeHttp && BaseAddress.Scheme != Uri.UriSchemeHttps))
        {
            yield return $"{nameof(BaseAddress)} must be an absolute http or https address, not '{BaseAddress}'.";
        }

        if (BatchSize is < 1 or > 1_000)
        {
            yield return $"{nameof(BatchSize)} must be between 1 and 1000, not {BatchSize}.";
        }

        if (MaxConcurrentBatches is < 1 or > 64)
        {
            yield return $"{nameof(MaxConcurrentBatches)} must be between 1 and 64, not {MaxConcurrentBatches}.";
        }

        if (BufferSize < 1)
        {
            yield return $"{nameof(BufferSize)} must be at least 1, not {BufferSize}.";
        }

        if (Linger < TimeSpan.Zero)
        {
            yield return $"{nameof(Linger)} must not be negative.";
        }

        if (MaxSpoolBytes < 1024 || SpoolSegmentBytes < 1024 || SpoolSegmentBytes > MaxSpoolBytes)
        {
            yield return $"{nameof(MaxSpoolBytes)} and {nameof(SpoolSegmentBytes)} must be at least 1 KiB, and a segment no larger than the spool.";
        }

        if (RetryMinDelay <= TimeSpan.Zero || RetryMaxDelay < RetryMinDelay)
        {
            yield return $"{nameof(RetryMinDelay)} must be positive and no larger than {nameof(RetryMaxDelay)}.";
        }
    }

    internal void ThrowIfInvalid()
    {
        var errors = Validate().ToList();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid AuditStream client options: " + string.Join(" ", errors));
        }
    }

    internal Uri Base => BaseAddress!.AbsoluteUri.EndsWith('/') ? BaseAddress : new Uri(BaseAddress.AbsoluteUri + "/");
}
