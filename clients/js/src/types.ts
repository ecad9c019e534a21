/** An audit event (DESIGN.md §3), snake_case as on the wire. Producers send the fields above `seq`; the ledger adds the rest. */
export interface AuditEvent {
  id?: string;
  type: string;
  severity: "critical" | "error" | "warning" | "info";
  category: string;
  actor_id?: string;
  actor_type?: string;
  target_id?: string;
  target_type?: string;
  action?: string;
  outcome?: "success" | "failure";
  occurred_at?: string;
  tenant_id?: string;
  subject_id?: string;
  pii?: unknown;
  /** On reads: the stored (hashed) form of pii, an AES-256-GCM envelope; put back as pii to recompute the hash. */
  pii_envelope?: unknown;
  source?: { service?: string; ip?: string; user_agent?: string; request_id?: string; trace_id?: string };
  metadata?: Record<string, unknown>;
  compliance?: string[];
  seq?: number;
  timestamp?: string;
  prev_hash?: string;
  hash?: string;
}

/** One condition of `match`: any event field or `metadata.*` path. */
export interface MatchPredicate {
  field: string;
  op: "eq" | "neq" | "in" | "prefix" | "exists" | "gt" | "lt";
  value?: unknown;
}

/** What a client wants to receive: lists are OR within, fields AND across; absent matches all. */
export interface StreamFilter {
  event_types?: string[];
  severities?: string[];
  categories?: string[];
  actor_ids?: string[];
  target_ids?: string[];
  time_range?: { start?: string; end?: string; relative?: "1h" | "24h" | "7d" | "30d" };
  /** Ask for a proof-carrying stream (docs/stream-proofs.md); a verifying connection (`verify`) sets it. */
  proofs?: boolean;
  compliance_only?: boolean;
  security_only?: boolean;
  match?: MatchPredicate[];
}

export interface ConnectionEstablished {
  type: "audit.connection.established";
  client_id: string;
  role: string;
  server_time: string;
  last_seq: number;
  /** The ledger the seqs count in; keep it with a saved seq and resume with both (absent from servers before ledger ids). */
  ledger_id?: string;
  /** True when the stream carries proofs (the client asked with `proofs: true` and the token may read them). */
  proofs?: boolean;
  filters: StreamFilter;
  limits: Record<string, number>;
}

export interface EventPublished {
  type: "audit.event.published";
  seq: number;
  audit_event: AuditEvent;
  /** With `proofs` asked for: the inclusion proof against the last checkpoint sent, when it was ready (docs/stream-proofs.md). */
  proof?: StreamProof;
  /** Set by a verifying connection (`verify`): what was proved before the event was delivered. */
  verified?: ProofVerified;
}

/** An RFC 9162 inclusion proof on the stream: `hashes` are base64 (the REST proofs use hex). */
export interface StreamProof {
  leaf_index: number;
  tree_size: number;
  hashes: string[];
}

/** What a verifying connection proved of an event before delivering it. */
export interface ProofVerified {
  /** The tree size of the signed checkpoint its inclusion proof leads to. */
  tree_size: number;
  /** Whether the proof came on the event (true) or in a later `audit.event.proof`. */
  inline: boolean;
  /** Whether the event's content hashes to its `hash`; false only when `pii` is masked for the role and no envelope is sent. */
  content_verified: boolean;
}

/** A signed checkpoint (C2SP signed note, with the witnesses' cosignature lines when they are configured). */
export interface CheckpointMessage {
  type: "audit.ledger.checkpoint";
  tree_size: number;
  checkpoint: string;
}

/** The proof of an event sent earlier without one, against the last checkpoint sent. */
export interface EventProof {
  type: "audit.event.proof";
  seq: number;
  proof: StreamProof;
}

export interface Alert {
  type: "audit.security.alert" | "audit.compliance.alert" | "audit.system.alert";
  seq: number;
  alert: { rule?: string; severity?: string; summary?: string; related_seqs?: number[]; [key: string]: unknown };
}

export interface Pong {
  type: "audit.connection.pong";
  server_time: string;
}

export interface FiltersUpdated {
  type: "audit.filters.updated";
  filters: StreamFilter;
}

export interface CaughtUp {
  type: "audit.stream.caught_up";
  seq: number;
}

export interface Gap {
  type: "audit.stream.gap";
  from_seq: number;
  to_seq: number;
  reason: string;
}

export interface StreamErrorMessage {
  type: "audit.error";
  code: string;
  message: string;
  field?: string;
  /** `proof_backlog`: events in [from_seq, to_seq] were sent without a proof and none will follow. */
  from_seq?: number;
  to_seq?: number;
}

/** Not from the server: the connection dropped and the client reconnects after `delay_ms`, resuming after `resume_after_seq`. */
export interface Reconnecting {
  type: "client.reconnecting";
  reason: string;
  delay_ms: number;
  attempt: number;
  resume_after_seq: number | null;
}

/** Every message of the stream (DESIGN.md §5), plus the client's own reconnect notice. */
export type StreamMessage =
  | ConnectionEstablished
  | EventPublished
  | CheckpointMessage
  | EventProof
  | Alert
  | Pong
  | FiltersUpdated
  | CaughtUp
  | Gap
  | StreamErrorMessage
  | Reconnecting;

/** Where a published event landed; returned once the server committed it. */
export interface Receipt {
  index: number;
  id: string;
  seq: number;
  hash: string;
  timestamp: string;
  duplicate: boolean;
}
