/** Base class of every error this client throws or reports. */
export class AuditStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A field-and-rule failure from an RFC 7807 problem body. */
export interface ProblemError {
  index?: number;
  field: string;
  rule: string;
}

/** The server answered an HTTP request with an error status. */
export class HttpError extends AuditStreamError {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: ProblemError[] = [],
    readonly problem?: unknown,
  ) {
    super(message);
  }
}

/** 401 or 403: the token is missing, expired, untrusted, or lacks the role, scope or tenant. Retrying will not help. */
export class AuthError extends HttpError {}

/** 400 on connect: the filters or `sinceSeq` are invalid (see `errors` for the field and rule). */
export class FilterError extends HttpError {}

/** The server closed the stream for abuse (1008 policy_violation). */
export class PolicyViolationError extends AuditStreamError {}

/**
 * The server serves another ledger than the one the resume position counts in (`audit.error` `ledger_mismatch`): its seqs
 * are another log's, so the connection stops instead of mixing them. Start over without `sinceSeq`/`ledgerId` to follow it.
 */
export class LedgerMismatchError extends AuditStreamError {}

/** A `ping()` got no pong in time, or the connection closed first. */
export class TimeoutError extends AuditStreamError {}

/** The connection was closed by `close()`. */
export class ClosedError extends AuditStreamError {}

/**
 * A verifying connection (`verify`) found something the pinned key does not vouch for: a checkpoint that does not
 * verify, fails the witness policy or is not consistent with the largest one verified before, or an event whose proof
 * does not lead to the checkpoint's root or whose content does not hash to its `hash`. Delivery stops.
 */
export class StreamVerificationError extends AuditStreamError {
  constructor(
    /** The event whose proof or content failed, or null when a checkpoint failed. */
    readonly seq: number | null,
    /** The tree size of the checkpoint involved. */
    readonly treeSize: number | null,
    /** What failed. */
    readonly failure: string,
  ) {
    super(seq !== null ? `Stream verification failed at seq ${seq}: ${failure}` : `Stream verification failed for the checkpoint at tree size ${treeSize}: ${failure}`);
  }
}
