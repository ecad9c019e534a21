using AuditStream.Filters;
using AuditStream.Security;
using AuditStream.Streaming.Clients;

namespace AuditStream.Streaming.Hub;

/// <summary>What the <see cref="FanOut"/> and its <see cref="SubscriptionIndex"/> need of a live client (a <see cref="ClientConnection"/>).</summary>
internal interface IFanOutClient
{
    /// <summary>The client's role and tenant: which partition of the index it sits in and which kinds it receives.</summary>
    AccessScope Scope { get; }

    /// <summary>The filter in force; the index keys the client by it.</summary>
    CompiledFilter Filter { get; }

    /// <summary>Where the index put the client, or null when it is not live. Touched only under the fan-out's lock.</summary>
    SubscriptionIndex.Registration? Subscription { get; set; }

    /// <summary>The last record the index returned the client for, so one record returns it once.</summary>
    long IndexStamp { get; set; }

    /// <summary>Seqs up to this one reached the client before it joined live delivery.</summary>
    long LiveAfter { get; set; }

    /// <summary>Whether the fan-out queued frames to the client and has not woken it yet.</summary>
    bool SignalPending { get; set; }

    /// <summary>Queues the record's frame if the client wants it (see <see cref="ClientConnection.Offer"/>).</summary>
    OfferResult Offer(RecordFrames record, bool live, bool signal);

    /// <summary>Before a replayed record is offered: work the offer may use and that must not run under a lock (a proof to read).</summary>
    Task PrepareAsync(RecordFrames record, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Wakes the client's write loop.</summary>
    void Signal();

    /// <summary>Closes the client whose queue is full with 4008.</summary>
    void SlowConsumer();

    /// <summary>Closes the client with <paramref name="status"/>.</summary>
    void RequestClose(int status, string description);
}
