import type { AuditStreamError } from "./errors.js";
import type { VerifyOptions } from "./stream-verifier.js";
import type { Alert, ConnectionEstablished, EventPublished, Pong, Reconnecting, StreamFilter, StreamMessage } from "./types.js";

/** The WebSocket constructor to use (the browser's, Node's, or e.g. the `ws` package's). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocket;

export interface ConnectOptions {
  /** Server base address, e.g. `http://localhost:8080` (or `ws://…`). */
  url: string;
  /**
   * Bearer token (JWT) with a reading role; sent as `?token=` unless `tokenIn` says otherwise. A function is asked at
   * every (re)connect, so a token refreshed meanwhile (OIDC) is the one a reconnect sends.
   */
  token?: string | (() => string | undefined);
  /**
   * Where the token travels: `"query"` (default, `?token=`, what the original browser clients do) or `"subprotocol"`
   * (a `bearer.<jwt>` WebSocket subprotocol, the one header a browser can set, so the token is in no URL the server or
   * a proxy logs; a refused connection is then diagnosed with an `Authorization` header).
   */
  tokenIn?: "query" | "subprotocol";
  /** Initial filters; `updateFilters` changes them later (and for reconnects). */
  filters?: StreamFilter;
  /** Replay every matching event after this seq first; without it the stream is live from the connection. */
  sinceSeq?: number;
  /**
   * The ledger `sinceSeq` counts in (`ledgerId` of an earlier connection): a server on another ledger refuses the resume
   * with `LedgerMismatchError` instead of streaming another log's seqs. Learned from the first connection when absent.
   */
  ledgerId?: string;
  onEvent?: (message: EventPublished) => void;
  onAlert?: (message: Alert) => void;
  onOpen?: (message: ConnectionEstablished) => void;
  onReconnect?: (message: Reconnecting) => void;
  /** Any message, including the above. */
  onMessage?: (message: StreamMessage) => void;
  /** A fatal error ended the connection (bad token, bad filters, policy violation, another ledger). */
  onError?: (error: AuditStreamError) => void;
  /** First reconnect delay (ms); it doubles per attempt with full jitter. Default 200. */
  minDelayMs?: number;
  /** Longest reconnect delay (ms). Default 30,000. */
  maxDelayMs?: number;
  /** WebSocket implementation. Default: the global `WebSocket` (Node 20: run with `--experimental-websocket`). */
  WebSocket?: WebSocketConstructor;
  /**
   * Verify the stream (docs/client-js.md): ask for proofs, check every checkpoint with the pinned key (and the witness
   * policy) and its consistency with the largest one seen, and deliver each event only once its inclusion proof and its
   * content check out. A failed check ends the connection with `StreamVerificationError` naming the seq.
   */
  verify?: VerifyOptions;
  /** `fetch` implementation, used to learn why a connection was refused (and, verifying, to read consistency proofs). Default: the global one. */
  fetch?: typeof fetch;
}

/** A live subscription: callbacks and/or `for await`, across reconnects, every matching seq once and in order. */
export interface AuditStreamConnection extends AsyncIterable<StreamMessage> {
  /** The last event seq delivered (or the end of the last gap); reconnects resume after it. */
  readonly lastSeq: number | null;
  /** The ledger `lastSeq` counts in (from `audit.connection.established`); reconnects resume with it. */
  readonly ledgerId: string | null;
  /** Resolves with the first `audit.connection.established`. */
  readonly ready: Promise<ConnectionEstablished>;
  /** Replaces the filters on the open connection (and for later reconnects); resolves with the server's confirmation, or at once while reconnecting. */
  updateFilters(filters: StreamFilter, timeoutMs?: number): Promise<StreamFilter>;
  /** Sends a ping; resolves with the pong (rejects with TimeoutError while reconnecting). */
  ping(timeoutMs?: number): Promise<Pong>;
  /** Closes for good; iteration ends. */
  close(): void;
}
