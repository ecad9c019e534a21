// The Verify button: fetch the pinned key (first use only), a signed checkpoint that covers the event, and the event's
// inclusion proof at that checkpoint's size, then check all three in the browser (verify.ts).
import type { AuditEvent } from "../../js/src/types.js";
import { checkEventHash, checkProof, openCheckpoint, parseVerifierKey, type InclusionProof, type VerifierKey } from "./verify.js";

const PIN_KEY = "auditstream.console.pinned-key";

/** The outcome shown in the drawer. */
export type Verification =
  | { ok: true; treeSize: number; recomputed: boolean; note: string }
  | { ok: false; failure: string };

export interface PinnedKey {
  key: string;
  pinnedAt: string;
}

export function pinnedKey(): PinnedKey | null {
  try {
    const value = JSON.parse(localStorage.getItem(PIN_KEY) ?? "null") as PinnedKey | null;
    return value && typeof value.key === "string" ? value : null;
  } catch {
    return null;
  }
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
      const response = await fetch("/api/v1/ledger/checkpoint", { cache: "no-store" });
      if (!response.ok) {
        return { ok: false, failure: `GET /api/v1/ledger/checkpoint answered ${response.status}` };
      }

      checkpoint = await openCheckpoint(await response.text(), key);
      if (typeof checkpoint === "string") {
        return { ok: false, failure: checkpoint };
      }

      if (checkpoint.treeSize >= seq) {
        break;
      }

      if (attempt >= 20) {
        return { ok: false, failure: `the latest signed checkpoint covers ${checkpoint.treeSize} events, not seq ${seq}` };
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
