// The ledger across reconnects: when the stream first connects, the console notes the latest signed checkpoint; after
// every reconnect, and every minute while it stays connected, it proves with an RFC 9162 consistency proof that the
// ledger still extends the checkpoint it saw before, and raises a warning when it does not (ledger.ts does the proofs).
import { $ } from "./dom.js";
import { checkConsistency, EMPTY_TREE, latestCheckpoint } from "./ledger.js";
import type { VerifiedCheckpoint } from "../../js/src/verify.js";

/** How often the ledger is proved consistent while the stream stays connected (each reconnect also checks). */
const LEDGER_CHECK_MS = 60_000;

type Occasion = "first" | "reconnect" | "periodic";

export class LedgerWatch {
  /** The last signed checkpoint this console checked; each reconnect proves the ledger still extends it. */
  #baseline: VerifiedCheckpoint | null = null;
  #opens = 0;
  #timer: ReturnType<typeof setInterval> | null = null;
  #checking = false;
  /** Bumped by start and stop: a check begun for an earlier stream does not touch this one's state. */
  #generation = 0;

  /**
   * Starts watching a new stream's ledger: `token` is asked at each check, `live` says whether the stream is connected,
   * `head` is the highest seq known to be in the ledger.
   */
  start(token: () => string, live: () => boolean, head: () => number): void {
    this.stop();
    $("ledger-warning").hidden = true;
    $("ledger-status").textContent = "";
    this.#timer = setInterval(() => {
      if (live() && this.#baseline && !this.#checking) {
        void this.#check(token(), "periodic", head());
      }
    }, LEDGER_CHECK_MS);
  }

  stop(): void {
    this.#generation++;
    this.#baseline = null;
    this.#opens = 0;
    if (this.#timer) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  /** The stream (re)connected with the ledger at `lastSeq`. */
  opened(token: string, lastSeq: number): void {
    void this.#check(token, this.#opens++ > 0 ? "reconnect" : "first", lastSeq);
  }

  /** A new key was pinned: the baseline was checked with the old one, so the next check notes a new one. */
  forgetBaseline(): void {
    this.#baseline = null;
  }

  async #check(token: string, occasion: Occasion, lastSeq: number): Promise<void> {
    this.#checking = true;
    try {
      await this.#prove(token, occasion, lastSeq);
    } finally {
      this.#checking = false;
    }
  }

  /** On the first connection, notes the signed checkpoint; after each reconnect, proves the ledger extends it (RFC 9162 consistency). */
  async #prove(token: string, occasion: Occasion, lastSeq: number): Promise<void> {
    const generation = this.#generation;
    const reconnected = occasion !== "first";
    const after = occasion === "periodic" ? "while connected" : "after reconnecting";
    const status = $("ledger-status");
    const warn = (text: string) => {
      const warning = $("ledger-warning");
      warning.textContent = text;
      warning.hidden = false;
    };

    if (!this.#baseline) {
      // An empty ledger has no checkpoint yet, and every later one extends it.
      const checkpoint = lastSeq === 0 ? EMPTY_TREE : await latestCheckpoint();
      if (generation !== this.#generation) {
        return;
      }

      if (checkpoint === null) {
        status.textContent = "Ledger: no signed checkpoint yet";
        return;
      }

      if (typeof checkpoint === "string") {
        status.textContent = "Ledger not checked";
        status.title = checkpoint;
        if (reconnected) warn(`Could not check the ledger ${after}: ${checkpoint}`);
        return;
      }

      this.#baseline = checkpoint;
      status.textContent = `Ledger: signed tree size ${checkpoint.treeSize}`;
      status.title = "The latest checkpoint, signed by the pinned key; every minute and after each reconnect, a consistency proof shows the ledger still extends it.";
      return;
    }

    const before = this.#baseline;
    const result = await checkConsistency(before, token);
    if (generation !== this.#generation) {
      return;
    }

    if ("failure" in result) {
      warn(result.rewritten ? `Warning: the ledger this console follows was rewritten — ${result.failure}.` : `Could not check the ledger ${after}: ${result.failure}.`);
      status.textContent = result.rewritten ? "Ledger REWRITTEN" : "Ledger not checked";
      return;
    }

    this.#baseline = result.checkpoint;
    status.textContent = `Ledger: consistent ${before.treeSize} → ${result.checkpoint.treeSize}`;
    status.title = `${occasion === "periodic" ? `At ${new Date().toLocaleTimeString()}` : "After reconnecting"}, a consistency proof showed the signed tree of ${result.checkpoint.treeSize} events extends the one of ${before.treeSize} seen before.`;
  }
}
