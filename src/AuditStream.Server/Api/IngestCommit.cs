using AuditStream.Events;
using AuditStream.Ledger;
using AuditStream.Ledger.Writing;
using AuditStream.Server.Hosting;
using AuditStream.Server.Operations;

namespace AuditStream.Server.Api;

/// <summary>
/// Appends events that passed the ingest checks to this instance's ledger and turns the writer's result into the
/// response (201/200 with receipts, 400, 409, 429, 503): the same for a producer's request on the leader and for one a
/// follower forwarded to it.
/// </summary>
internal static class IngestCommit
{
    /// <summary>
    /// The response to <paramref name="events"/> after the local commit, or null when this instance does not lead the
    /// ledger (nothing was written: a follower, or a leader that stepped down while the events waited).
    /// </summary>
    public static async Task<IResult?> CommitAsync(
        HttpContext http, AuditEvent[] events, string? tenant, bool single, LedgerService ledgers, ServerOptions options, IngestMetrics metrics, CancellationToken cancellationToken)
    {
        var ledger = ledgers.Ledger;
        if (!ledger.IsLeader)
        {
            return null;
        }

        LedgerAppendResult result;
        try
        {
            result = await ledger.AppendAsync(events, tenant, cancellationToken);
        }
        catch (LedgerUnavailableException) when (!ledger.IsLeader)
        {
            return null;
        }
        catch (LedgerUnavailableException ex)
        {
            metrics.Refused(events.Length);
            return Problems.Unavailable(ex.Message, options.RetryAfterSeconds);
        }

        if (result.IsInvalid)
        {
            metrics.Invalid(events.Length);
            return Problems.Invalid(
                $"{result.Errors.Count} error(s) in {events.Length} event(s).",
                result.Errors.Select(e => new ProblemError(e.Index, e.Error.Field, e.Error.Rule)).ToArray());
        }

        var append = result.Append!;
        switch (append.Status)
        {
            case AppendStatus.LedgerBusy:
                metrics.Refused(events.Length);
                return Problems.Busy(options.RetryAfterSeconds);
            case AppendStatus.LedgerClosed:
                metrics.Refused(events.Length);
                return Problems.Unavailable("The server is shutting down.", options.RetryAfterSeconds);
            case AppendStatus.IdConflict:
                metrics.Conflicted(events.Length);
                return Problems.IdConflict(append.Conflicts);
        }

        var receipts = new IngestReceipt[append.Events.Count];
        var anyNew = false;
        for (var i = 0; i < receipts.Length; i++)
        {
            var (receipt, duplicate) = append.Events[i];
            anyNew |= !duplicate;
            receipts[i] = new IngestReceipt(i, receipt.Id, receipt.Seq, receipt.HashHex, receipt.Timestamp, duplicate);
        }

        var duplicates = append.Events.Count(static e => e.WasDuplicate);
        metrics.Committed(append.Events.Count - duplicates, duplicates);
        var status = anyNew ? StatusCodes.Status201Created : StatusCodes.Status200OK;
        if (single)
        {
            http.Response.Headers.Location = $"/api/v1/events/{receipts[0].Seq}";
            return Results.Json(receipts[0], ApiJsonContext.Default.IngestReceipt, statusCode: status);
        }

        return Results.Json(new IngestResponse(receipts), ApiJsonContext.Default.IngestResponse, statusCode: status);
    }
}
