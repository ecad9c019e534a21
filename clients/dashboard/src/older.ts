// Past and live in one view: "Load older events" (or scrolling to the bottom) reads the events just older than the
// oldest row from the ledger, and a gap's "Load them" reads the seqs it skipped (history.ts does the reading).
import { $ } from "./dom.js";
import { loadOlder, loadRange } from "./history.js";
import type { Session } from "./session.js";
import type { LiveTable } from "./table.js";

export class OlderPages {
  /** Every matching seq from here up has been read back from the ledger (older pages), or null before any. */
  #from: number | null = null;
  #loading = false;
  #done = false;

  /** `session` is the signed-in one (its token reads the ledger); `head` the highest seq known to be in the ledger. */
  constructor(private readonly table: LiveTable, private readonly session: () => Session | null, private readonly head: () => number) {
    $("load-older").addEventListener("click", () => void this.load());
  }

  /** Older pages start over from the oldest row shown (new filters, a new sign-in, back at live). */
  reset(): void {
    this.#from = null;
    this.#done = false;
    this.#show("");
  }

  #show(text: string): void {
    $("history-status").textContent = text;
    $<HTMLButtonElement>("load-older").hidden = this.#done;
    $<HTMLButtonElement>("load-older").disabled = this.#loading;
  }

  /** Reads the page of matching events just older than the oldest row shown (or than the head, for an empty table). */
  async load(): Promise<void> {
    const current = this.session();
    if (!current || this.#loading || this.#done) {
      return;
    }

    const oldest = this.table.oldestSeq;
    const from = this.#from ?? Number.POSITIVE_INFINITY;
    const before = oldest === null ? Math.min(this.head() + 1, from) : this.table.dropped > 0 ? oldest : Math.min(oldest, from);
    const token = current.token;
    const query = location.search;
    this.#loading = true;
    this.#show("Loading older events…");
    try {
      const page = await loadOlder(before, query, token);
      if (this.session() !== current || location.search !== query) {
        return;
      }

      if (!page.ok) {
        this.#show(`Older events could not be loaded: ${page.failure}`);
        return;
      }

      const added = this.table.addOlder(page.events);
      this.#from = page.scannedFrom;
      this.#done = page.scannedFrom <= 1;
      const through = page.events[0]?.seq;
      this.#show(this.#done
        ? "The start of the ledger: nothing older matches these filters."
        : `${added.toLocaleString("en")} older events loaded${through ? ` (back to seq ${through})` : ""}; searched back to seq ${page.scannedFrom}.`);
    } catch (error) {
      this.#show(`Older events could not be loaded: ${(error as Error).message}`);
    } finally {
      this.#loading = false;
      $<HTMLButtonElement>("load-older").disabled = false;
    }
  }

  /** Reads the events a gap skipped (seqs from..to matching the filters) from the ledger and shows them in place. */
  async fillGap(from: number, to: number): Promise<void> {
    const current = this.session();
    if (!current) {
      return;
    }

    this.table.markGap(from, to, "Loading from the ledger…");
    const page = await loadRange(from, to, location.search, current.token).catch((e: Error) => ({ ok: false as const, failure: e.message }));
    if (this.session() !== current) {
      return;
    }

    if (!page.ok) {
      this.table.markGap(from, to, `Could not load them: ${page.failure}`);
      return;
    }

    const added = this.table.addOlder(page.events);
    this.table.markGap(from, to, `${page.events.length.toLocaleString("en")} matching events loaded from the ledger${added < page.events.length ? ` (${page.events.length - added} were already shown)` : ""}`);
  }
}
