// The detail drawer, keyed by seq (it stays on its event while rows stream in): every field with its filter button,
// the JSON with Copy, Verify (ledger.ts) and the verifier key pinned in this browser.
import type { AuditEvent } from "../../js/src/types.js";
import { $ } from "./dom.js";
import { filterable, filterBy } from "./filters.js";
import { forgetPinnedKey, pinKey, pinnedKey, verifyEvent } from "./ledger.js";
import type { LiveTable } from "./table.js";

function fieldText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** A filter button for `path` = `value` (a list filter for type, severity, category, actor and target; `match` eq otherwise). */
function filterButton(path: string, value: string): HTMLButtonElement {
  const filter = document.createElement("button");
  filter.type = "button";
  filter.className = "filter-by";
  filter.textContent = "filter";
  filter.title = `Show only ${path} ${value}`;
  filter.dataset.path = path;
  filter.addEventListener("click", () => filterBy(path, value));
  return filter;
}

/** The drawer's rows for one field: scalars get a filter button; source and metadata list their leaves, each filterable. */
function fieldRows(path: string, value: unknown, depth = 0): HTMLElement[] {
  const dt = document.createElement("dt");
  dt.textContent = path;
  const dd = document.createElement("dd");
  dd.dataset.field = path;
  const nested = (path === "source" || path.startsWith("metadata")) && value && typeof value === "object" && !Array.isArray(value) && depth < 4;
  if (nested) {
    const rows = Object.entries(value as Record<string, unknown>).flatMap(([key, child]) => fieldRows(`${path}.${key}`, child, depth + 1));
    if (rows.length) {
      return rows;
    }
  }

  const text = document.createElement("span");
  text.className = "field-value";
  text.textContent = fieldText(value);
  dd.append(text);
  if (filterable(path) && path !== "hash" && path !== "prev_hash" && path !== "seq") {
    if (Array.isArray(value) && path === "compliance") {
      text.textContent = "";
      value.forEach((tag, i) => {
        if (i > 0) text.append(", ");
        text.append(String(tag), " ", filterButton(path, String(tag)));
      });
    } else if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
      dd.append(" ", filterButton(path, String(value)));
    }
  }

  return [dt, dd];
}

function showPinnedKey(): void {
  const pinned = pinnedKey();
  $("pinned-key").textContent = pinned
    ? `Pinned key ${pinned.key} (${pinned.pasted ? "pasted" : "trusted on first use"}, since ${new Date(pinned.pinnedAt).toLocaleString()})`
    : "No key pinned yet: Verify pins the server's key on first use, unless you pin one below.";
  $("forget-key").hidden = !pinned;
}

export class Drawer {
  #seq: number | null = null;
  /** The drawer's event, kept apart from the table so that it stays while the table changes under new filters. */
  #event: AuditEvent | null = null;

  /** `token` is the signed-in token (null when signed out); `keyPinned` is told when a pasted key replaces the pinned one. */
  constructor(private readonly table: LiveTable, private readonly token: () => string | null, keyPinned: () => void) {
    $("verify").addEventListener("click", () => void this.#verify());
    $("close-drawer").addEventListener("click", () => this.close());
    $("copy-json").addEventListener("click", () => void navigator.clipboard?.writeText($("json").textContent ?? ""));
    $("pin-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const status = $("pin-status");
      void pinKey($<HTMLInputElement>("pin-input").value).then((pinned) => {
        status.classList.toggle("error", typeof pinned === "string");
        status.textContent = typeof pinned === "string" ? `Not pinned: ${pinned}.` : "Pinned.";
        if (typeof pinned !== "string") {
          $<HTMLInputElement>("pin-input").value = "";
          keyPinned();
        }

        showPinnedKey();
      });
    });
    $("forget-key").addEventListener("click", () => {
      forgetPinnedKey();
      showPinnedKey();
    });
  }

  /** The seq of the event shown, or null when closed. */
  get seq(): number | null {
    return this.#seq;
  }

  open(seq: number): void {
    const event = this.table.event(seq);
    if (!event) {
      return;
    }

    this.#seq = seq;
    this.#event = event;
    this.table.select(seq);
    $("drawer").hidden = false;
    $("drawer").dataset.seq = String(seq);
    $("drawer-title").textContent = `Event seq ${seq}`;
    const result = $("verify-result");
    result.textContent = "";
    delete result.dataset.result;
    $("fields").replaceChildren(...Object.entries(event).flatMap(([name, value]) => fieldRows(name, value)));
    $("json").textContent = JSON.stringify(event, null, 2);
    showPinnedKey();
  }

  close(): void {
    this.#seq = null;
    this.#event = null;
    this.table.select(null);
    $("drawer").hidden = true;
  }

  async #verify(): Promise<void> {
    const seq = this.#seq;
    const event = this.#event;
    const token = this.token();
    if (seq === null || !event || !token) {
      return;
    }

    const result = $("verify-result");
    delete result.dataset.result;
    const outcome = await verifyEvent(event, token, (step) => {
      if (this.#seq === seq) result.textContent = step;
    });
    if (this.#seq !== seq) {
      return;
    }

    const note = document.createElement("small");
    if (outcome.ok) {
      result.dataset.result = "ok";
      result.textContent = `Verified (tree size ${outcome.treeSize})${outcome.recomputed ? "" : " — stored hash only"}`;
      note.textContent = outcome.note;
    } else {
      result.dataset.result = "fail";
      result.textContent = "Verification failed";
      note.textContent = outcome.failure;
    }

    result.append(note);
    showPinnedKey();
  }
}
