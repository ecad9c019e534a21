// Checks a proof-carrying stream (docs/stream-proofs.md) without trusting the server, and holds each event back until
// it is proved: every checkpoint opens with the pinned key (and the witness policy), is consistent with the largest
// checkpoint verified so far (RFC 9162, checked against the two signed roots), and every event's proof, inline or
// deferred, leads from its recomputed hash to the root of the checkpoint the server sent before it. Mirrors
// src/AuditStream.Client/Verification/StreamProofVerifier.cs; unlike the .NET SDK, events are delivered only once proved.
import { AuditStreamError, StreamVerificationError } from "./errors.js";
import type { CheckpointMessage, EventPublished, StreamMessage, StreamProof } from "./types.js";
import { base64ToBytes, checkEventHash, equal, openCheckpoint, parseHashes, parseVerifierKey, sha256, verifyConsistency, verifyInclusion, type VerifiedCheckpoint, type VerifierKey } from "./verify.js";
import { WitnessPolicy, type WitnessPolicyOptions } from "./witness.js";

/** What a verifying connection trusts: the ledger's key, obtained out of band, and optionally witnesses. */
export interface VerifyOptions {
  /** The ledger's C2SP note verifier key, `name+keyid+base64(0x01 ‖ Ed25519 key)` (`GET /api/v1/ledger/public-key`, pinned). */
  key: string;
  /** Require cosignatures from `quorum` of these witnesses (cosigner keys as `auditstream witness` prints them) on every checkpoint. */
  witnesses?: WitnessPolicyOptions;
}

/** Events held back waiting for their proof at most; the oldest is given up beyond it (the server bounds its side too). */
export const MAX_AWAITING = 100_000;

type Held = { seq: number; message: StreamMessage; proved: boolean };

/** Reads a consistency proof (`GET` of the path given, relative to the server's base address) and returns its JSON. */
export type ProofGetter = (path: string) => Promise<unknown>;

export class StreamVerifier {
  readonly #trust: Promise<{ key: VerifierKey; witnesses: WitnessPolicy | null }>;
  #largest: VerifiedCheckpoint | null = null;
  #current: VerifiedCheckpoint | null = null;
  readonly #held: Held[] = [];
  readonly #bySeq = new Map<number, Held>();

  constructor(
    options: VerifyOptions,
    private readonly get: ProofGetter,
  ) {
    this.#trust = (async () => {
      const key = await parseVerifierKey(options.key);
      if (typeof key === "string") {
        throw new AuditStreamError(`verify.key: ${key}`);
      }

      return { key, witnesses: options.witnesses ? await WitnessPolicy.create(options.witnesses) : null };
    })();
    this.#trust.catch(() => undefined);
  }

  /** The largest checkpoint verified so far (kept across reconnects). */
  get largest(): VerifiedCheckpoint | null {
    return this.#largest;
  }

  /**
   * Takes one message in the order the server sent it and returns what may be delivered now, in order: checkpoints once
   * verified, events once proved (with `verified` set), the stream's gap and caught-up markers in their place among the
   * events. Throws `StreamVerificationError` when a check fails. `lastSeq` is the last event delivered (repeats are dropped).
   */
  async handle(message: StreamMessage, lastSeq: number | null): Promise<StreamMessage[]> {
    const trust = await this.#trust;
    switch (message.type) {
      case "audit.connection.established":
        if (message.proofs !== true) {
          throw new StreamVerificationError(null, null, "the server did not answer proofs: true (an older server, or the token's proof rules refuse proofs)");
        }

        // A new connection: its proofs lead to the checkpoints it sends.
        this.#current = null;
        return [message];
      case "audit.ledger.checkpoint":
        await this.#accept(message, trust.key, trust.witnesses);
        return [message];
      case "audit.event.published": {
        if (lastSeq !== null && message.seq <= lastSeq) {
          return [];
        }

        const held = this.#bySeq.get(message.seq);
        if (held && (held.proved || !message.proof)) {
          // A repeat after a reconnect: the first copy waits for its proof, or is proved already.
          return [];
        }

        if (message.proof) {
          message.verified = await this.#prove(message, message.proof, true);
        }

        if (held) {
          held.message = message;
          held.proved = true;
        } else {
          this.#hold({ seq: message.seq, message, proved: message.proof !== undefined });
        }

        return this.#release();
      }
      case "audit.event.proof": {
        const held = this.#bySeq.get(message.seq);
        if (!held || held.proved) {
          return [];
        }

        (held.message as EventPublished).verified = await this.#prove(held.message as EventPublished, message.proof, false);
        held.proved = true;
        return this.#release();
      }
      case "audit.error":
        if (message.code === "proofs_forbidden") {
          // After update_filters: the stream goes on without proofs, so nothing more could be delivered.
          throw new StreamVerificationError(null, null, `the server stopped sending proofs: ${message.message}`);
        }

        if (message.code === "proof_backlog" && message.from_seq !== undefined && message.to_seq !== undefined) {
          // The server will prove none of these: they are never delivered (read them with GET /api/v1/events/{seq}?proof=true).
          for (const held of this.#held.filter((h) => !h.proved && h.seq >= message.from_seq! && h.seq <= message.to_seq!)) {
            this.#drop(held);
          }

          return [...this.#release(), message];
        }

        return [message];
      case "audit.stream.gap":
      case "audit.stream.caught_up":
        if (this.#held.length === 0) {
          return [message];
        }

        this.#held.push({ seq: Number.NaN, message, proved: true });
        return [];
      default:
        return [message];
    }
  }

  #hold(held: Held): void {
    this.#held.push(held);
    this.#bySeq.set(held.seq, held);
    if (this.#bySeq.size > MAX_AWAITING) {
      const oldest = this.#held.find((h) => !h.proved && this.#bySeq.has(h.seq));
      if (oldest) {
        this.#drop(oldest);
      }
    }
  }

  #drop(held: Held): void {
    this.#held.splice(this.#held.indexOf(held), 1);
    this.#bySeq.delete(held.seq);
  }

  #release(): StreamMessage[] {
    const ready: StreamMessage[] = [];
    while (this.#held.length > 0 && this.#held[0]!.proved) {
      const held = this.#held.shift()!;
      this.#bySeq.delete(held.seq);
      ready.push(held.message);
    }

    return ready;
  }

  async #prove(message: EventPublished, proof: StreamProof, inline: boolean) {
    const seq = message.seq;
    const checkpoint = this.#current;
    const fail = (failure: string) => new StreamVerificationError(seq, proof.tree_size ?? null, failure);
    if (!checkpoint) {
      throw fail("a proof arrived before any verified checkpoint");
    }

    if (checkpoint.treeSize < seq) {
      throw fail(`the checkpoint covers ${checkpoint.treeSize} events, not seq ${seq}`);
    }

    if (proof.leaf_index !== seq - 1 || proof.tree_size !== checkpoint.treeSize) {
      throw fail(`the proof is for seq ${proof.leaf_index + 1} in a tree of ${proof.tree_size}, not seq ${seq} in ${checkpoint.treeSize}`);
    }

    if (message.audit_event.seq !== undefined && message.audit_event.seq !== seq) {
      throw fail(`the event inside says seq ${message.audit_event.seq}`);
    }

    const path: Uint8Array[] = [];
    for (const [i, hash] of (Array.isArray(proof.hashes) ? proof.hashes : []).entries()) {
      const bytes = typeof hash === "string" ? base64ToBytes(hash) : null;
      if (!bytes || bytes.length !== 32) {
        throw fail(`proof hash ${i} is not a base64 SHA-256`);
      }

      path.push(bytes);
    }

    // The leaf comes from the event's hash, and that hash from the event's own canonical form (unless pii is masked).
    const content = await checkEventHash(message.audit_event);
    if ("error" in content) {
      throw fail(content.error);
    }

    const leaf = await sha256(Uint8Array.of(0x00), content.hash);
    if (!(await verifyInclusion(leaf, seq - 1, checkpoint.treeSize, path, checkpoint.rootHash))) {
      throw fail(`the inclusion proof for seq ${seq} does not lead to the checkpoint's root at tree size ${checkpoint.treeSize}`);
    }

    return { tree_size: checkpoint.treeSize, inline, content_verified: content.recomputed };
  }

  async #accept(message: CheckpointMessage, key: VerifierKey, witnesses: WitnessPolicy | null): Promise<void> {
    const fail = (failure: string) => new StreamVerificationError(null, message.tree_size ?? null, failure);
    const checkpoint = await openCheckpoint(message.checkpoint, key);
    if (typeof checkpoint === "string") {
      throw fail(`checkpoint: ${checkpoint}`);
    }

    const unwitnessed = witnesses ? await witnesses.check(message.checkpoint) : null;
    if (unwitnessed) {
      throw fail(`checkpoint: witness policy: ${unwitnessed}`);
    }

    if (checkpoint.treeSize !== message.tree_size) {
      throw fail(`the signed checkpoint is for tree size ${checkpoint.treeSize}`);
    }

    const largest = this.#largest;
    if (largest && largest.treeSize !== checkpoint.treeSize) {
      const [older, newer] = largest.treeSize < checkpoint.treeSize ? [largest, checkpoint] : [checkpoint, largest];
      await this.#checkConsistency(older, newer, fail);
    } else if (largest && !equal(largest.rootHash, checkpoint.rootHash)) {
      throw fail("a second root for a tree size already verified (a split view)");
    }

    this.#current = checkpoint;
    if (!largest || checkpoint.treeSize > largest.treeSize) {
      this.#largest = checkpoint;
    }
  }

  async #checkConsistency(older: VerifiedCheckpoint, newer: VerifiedCheckpoint, fail: (failure: string) => Error): Promise<void> {
    if (older.treeSize === 0) {
      return; // the empty tree is a prefix of every tree
    }

    const answer = await this.get(`api/v1/ledger/proofs/consistency?from=${older.treeSize}&to=${newer.treeSize}`);
    const path = parseHashes((answer as { hashes?: unknown } | null)?.hashes);
    if (typeof path === "string") {
      throw fail(`the consistency proof from ${older.treeSize} is malformed: ${path}`);
    }

    if (!(await verifyConsistency(older.treeSize, newer.treeSize, older.rootHash, newer.rootHash, path))) {
      throw fail(`not consistent with the verified checkpoint at tree size ${older.treeSize}: the server rewrote history or shows a split view`);
    }
  }
}
