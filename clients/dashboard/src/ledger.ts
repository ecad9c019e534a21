// The Verify button: fetch the pinned key (first use only), a signed checkpoint that covers the event, and the event's
// inclusion proof at that checkpoint's size, then check all three in the browser (verify.ts).
import type { AuditEvent } from "../../js/src/types.js";
import {
  bytesToHex, checkEventHash, checkProof, openCheckpoint, parseHashes, parseVerifierKey, verifyConsistency,
  type InclusionProof, type VerifiedCheckpoint, type VerifierKey,
} from "../../js/src/verify.js";

const PIN_KEY = "auditstream.console.pinned-key";

/** The outcome shown in the drawer. */
export type Verification =
  | { ok: true; treeSize: number; recomputed: boolean; note: string }
  | { ok: false; failure: string };

export interface PinnedKey {
  key: string;
  pinnedAt: string;
  /** Pasted by the user rather than fetched from the server on first use. */
  pasted?: boolean;
}

export function pinnedKey(): PinnedKey | null {
  try {
    const value = JSON.parse(localStorage.getItem(PIN_KEY) ?? "null") as PinnedKey | null;
    return value && typeof value.key === "string" ? value : null;
  } catch {
    return null;
  }
}

/** Pins a verifier key the user pasted (e.g. from `auditstream` or the server's operator) instead of trusting the server on first use; a string says why it cannot be pinned. */
export async function pinKey(text: string): Promise<PinnedKey | string> {
  const parsed = await parseVerifierKey(text);
  if (typeof parsed === "string") {
    return parsed;
  }

  const pinned = { key: parsed.text, pinnedAt: new Date().toISOString(), pasted: true };
  localStorage.setItem(PIN_KEY, JSON.stringify(pinned));
  return pinned;
}

export function forgetPinnedKey(): void {
  localStorage.removeItem(PIN_KEY);
}

async function trustedKey(): Promise<VerifierKey | string> {
  let pinned = pinnedKey();
  if (!pinned) {
    // Trust on first use: the key is pinned in this browser; later checkpoints must be signed by it.
    const response = await fetch("/api/v1/ledger/public-key", { cache: "no-store" });
    if (!response.ok) {
      return `GET /api/v1/ledger/public-key answered ${response.status}`;
    }

    pinned = { key: (await response.text()).trim(), pinnedAt: new Date().toISOString() };
    const parsed = await parseVerifierKey(pinned.key);
    if (typeof parsed === "string") {
      return `the server's public key cannot be pinned: ${parsed}`;
    }

    localStorage.setItem(PIN_KEY, JSON.stringify(pinned));
    return parsed;
  }

  const parsed = await parseVerifierKey(pinned.key);
  return typeof parsed === "string" ? `the pinned key is unusable: ${parsed}` : parsed;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Verifies that `event` is in the signed ledger; `progress` is told what is being fetched. */
export async function verifyEvent(event: AuditEvent, token: string, progress: (step: string) => void): Promise<Verification> {
  const seq = event.seq;
  if (typeof seq !== "number") {
    return { ok: false, failure: "the event has no seq" };
  }

  try {
    progress("Checking the event's hash…");
    const hashCheck = await checkEventHash(event);
    if ("error" in hashCheck) {
      return { ok: false, failure: hashCheck.error };
    }

    progress("Fetching the pinned public key…");
    const key = await trustedKey();
    if (typeof key === "string") {
      return { ok: false, failure: key };
    }

    // Checkpoints are signed every CheckpointInterval (1 s by default): a fresh event may need the next one.
    let checkpoint;
    for (let attempt = 0; ; attempt++) {
      progress(attempt === 0 ? "Fetching the signed checkpoint…" : `Waiting for a checkpoint that covers seq ${seq}…`);
      checkpoint = await fetchCheckpoint(key);
      if (typeof checkpoint === "string") {
        return { ok: false, failure: checkpoint };
      }

      if (checkpoint && checkpoint.treeSize >= seq) {
        break;
      }

      if (attempt >= 20) {
        return { ok: false, failure: `the latest signed checkpoint covers ${checkpoint?.treeSize ?? 0} events, not seq ${seq}` };
      }

      await delay(500);
    }

    progress(`Fetching the inclusion proof at tree size ${checkpoint.treeSize}…`);
    const response = await fetch(`/api/v1/ledger/proofs/inclusion?seq=${seq}&tree_size=${checkpoint.treeSize}`, {
      headers: { authorization: `Bearer ${token}` },
      cache: "no-store",
    });
    if (!response.ok) {
      return { ok: false, failure: `GET /api/v1/ledger/proofs/inclusion answered ${response.status}` };
    }

    let proof: InclusionProof;
    try {
      proof = (await response.json()) as InclusionProof;
    } catch {
      return { ok: false, failure: "the inclusion proof is not JSON" };
    }

    const failure = await checkProof(seq, hashCheck.hash, proof, checkpoint);
    if (failure) {
      return { ok: false, failure };
    }

    return {
      ok: true,
      treeSize: checkpoint.treeSize,
      recomputed: hashCheck.recomputed,
      note: hashCheck.recomputed
        ? "The event's hash was recomputed from its canonical form, and the proof leads to the root signed by the pinned key."
        : `${hashCheck.why}. The stored hash is in the tree signed by the pinned key.`,
    };
  } catch (error) {
    return { ok: false, failure: `verification could not finish: ${(error as Error).message}` };
  }
}

/** The latest checkpoint, verified with the pinned key (pinned now if this is its first use); null before the first one is signed; a string says what failed. */
export async function latestCheckpoint(): Promise<VerifiedCheckpoint | string | null> {
  const key = await trustedKey();
  if (typeof key === "string") {
    return key;
  }

  return fetchCheckpoint(key);
}

async function fetchCheckpoint(key: VerifierKey): Promise<VerifiedCheckpoint | string | null> {
  const response = await fetch("/api/v1/ledger/checkpoint", { cache: "no-store" });
  if (response.status === 404) {
    return null;
  }

  if (!response.ok) {
    return `GET /api/v1/ledger/checkpoint answered ${response.status}`;
  }

  return openCheckpoint(await response.text(), key);
}

/** The empty tree (RFC 9162 §2.1.1: MTH({}) = SHA-256()), which every ledger extends. */
export const EMPTY_TREE: VerifiedCheckpoint = { origin: "", treeSize: 0, rootHash: new Uint8Array(0) };

/** Whether the ledger now is an extension of the one `before` described (RFC 9162 consistency); the new checkpoint, or what is wrong. */
export async function checkConsistency(before: VerifiedCheckpoint, token: string): Promise<{ checkpoint: VerifiedCheckpoint } | { failure: string; rewritten: boolean }> {
  try {
    const after = await latestCheckpoint();
    if (typeof after === "string" || after === null) {
      return { failure: after ?? "the server has no signed checkpoint", rewritten: false };
    }

    if (before.treeSize === 0) {
      return { checkpoint: after };
    }

    if (after.treeSize < before.treeSize) {
      return { failure: `the ledger shrank from ${before.treeSize} to ${after.treeSize} events (rolled back or truncated)`, rewritten: true };
    }

    let path: Uint8Array[] = [];
    if (after.treeSize > before.treeSize) {
      const response = await fetch(`/api/v1/ledger/proofs/consistency?from=${before.treeSize}&to=${after.treeSize}`, {
        headers: { authorization: `Bearer ${token}` },
        cache: "no-store",
      });
      if (!response.ok) {
        return { failure: `GET /api/v1/ledger/proofs/consistency answered ${response.status}`, rewritten: false };
      }

      const proof = (await response.json()) as { from?: number; to?: number; hashes?: unknown };
      if (proof.from !== before.treeSize || proof.to !== after.treeSize) {
        return { failure: `the consistency proof is from ${proof.from} to ${proof.to}, not ${before.treeSize} to ${after.treeSize}`, rewritten: false };
      }

      const parsed = parseHashes(proof.hashes);
      if (typeof parsed === "string") {
        return { failure: parsed, rewritten: false };
      }

      path = parsed;
    }

    const consistent = await verifyConsistency(before.treeSize, after.treeSize, before.rootHash, after.rootHash, path);
    return consistent
      ? { checkpoint: after }
      : {
        failure: `the signed tree of ${after.treeSize} events (root ${bytesToHex(after.rootHash).slice(0, 16)}…) does not extend the one of ${before.treeSize} seen before (root ${bytesToHex(before.rootHash).slice(0, 16)}…): the ledger was rewritten`,
        rewritten: true,
      };
  } catch (error) {
    return { failure: `the consistency check could not finish: ${(error as Error).message}`, rewritten: false };
  }
}
