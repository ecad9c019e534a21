// The live table: newest first, a capped buffer, at most one render per animation frame, only the visible rows in the
// DOM (fixed row height), every value set as text. Rows are keyed by seq, so a replayed or resent event is shown once.
import type { AuditEvent } from "../../js/src/types.js";

export type Row =
  | { kind: "event"; seq: number; event: AuditEvent }
  | { kind: "gap"; seq: number; from: number; to: number; reason: string; filled?: string };

export const ROW_HEIGHT = 28;
const OVERSCAN = 10;
/** The shortest interval between two renders caused by arrivals alone (ms). */
const ARRIVAL_MS = 100;

export interface TableView {
  scroller: HTMLElement;
  spacer: HTMLElement;
  window: HTMLElement;
  capNotice: HTMLElement;
  onSelect: (seq: number) => void;
  /** A gap's "Load them" was clicked: read its seqs from the ledger. */
  onFillGap: (from: number, to: number) => void;
  /** A value of a row was clicked: filter by it (`field` is the event field). */
  onFilter: (field: string, value: string) => void;
  /** Told after each render, e.g. to update the "N new" count. */
  onRender: () => void;
}

function cell(text: string, className: string): HTMLElement {
  const element = document.createElement("span");
  element.className = `cell ${className}`;
  element.setAttribute("role", "cell");
  element.textContent = text;
  element.title = text;
  return element;
}

/** A cell whose value filters by itself when clicked (the rest of the row opens the drawer). */
function valueCell(className: string, parts: Array<[field: string, value: string | undefined, shown?: string]>, onFilter: (field: string, value: string) => void, separator = ""): HTMLElement {
  const element = document.createElement("span");
  element.className = `cell ${className}`;
  element.setAttribute("role", "cell");
  const title: string[] = [];
  parts.forEach(([field, value, shown], i) => {
    if (i > 0) element.append(separator);
    if (value === undefined || value === "") {
      element.append(shown ?? "—");
      return;
    }

    const span = document.createElement("span");
    span.className = "value";
    span.dataset.filter = field;
    span.textContent = shown ?? value;
    span.addEventListener("click", (e) => {
      e.stopPropagation();
      onFilter(field, value);
    });
    element.append(span);
    title.push(`${field} ${value}`);
  });
  element.title = title.length ? `Click a value to filter by it: ${title.join(", ")}` : "";
  return element;
}

function time(timestamp: string | undefined): string {
  if (!timestamp) {
    return "";
  }

  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) {
    return timestamp;
  }

  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

export class LiveTable {
  /** Shown rows, oldest first (rendered reversed). */
  #rows: Row[] = [];
  /** Arrived while paused (or since the last frame), oldest first. */
  #incoming: Row[] = [];
  #seqs = new Set<number>();
  #dropped = 0;
  #paused = false;
  #frame = 0;
  #selected: number | null = null;
  #lastRender = 0;
  #arrivalTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly view: TableView, readonly cap = 5000) {
    view.scroller.addEventListener("scroll", () => this.#schedule(), { passive: true });
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Events that arrived while paused and are not shown yet. */
  get newCount(): number {
    return this.#paused ? this.#incoming.filter((r) => r.kind === "event").length : 0;
  }

  get size(): number {
    return this.#rows.length;
  }

  /** Events dropped from the view by the cap (they are still in the ledger). */
  get dropped(): number {
    return this.#dropped;
  }

  /** The lowest seq of an event shown or waiting to be shown, or null for none. */
  get oldestSeq(): number | null {
    const row = this.#rows.find((r) => r.kind === "event") ?? this.#incoming.find((r) => r.kind === "event");
    return row ? row.seq : null;
  }

  /**
   * Older events from the ledger (GET /api/v1/events), put below the rows in seq order; seqs already here are skipped,
   * so paging back and the live stream never show an event twice. Returns how many were added.
   */
  addOlder(events: AuditEvent[]): number {
    const rows: Row[] = [];
    for (const event of events) {
      if (typeof event.seq === "number" && !this.#seqs.has(event.seq)) {
        this.#seqs.add(event.seq);
        rows.push({ kind: "event", seq: event.seq, event });
      }
    }

    if (rows.length) {
      this.#rows = [...rows, ...this.#rows].sort((a, b) => a.seq - b.seq);
      this.#dropped = Math.max(0, this.#dropped - rows.length);
      this.#schedule();
    }

    return rows.length;
  }

  event(seq: number): AuditEvent | undefined {
    const row = this.#rows.find((r) => r.kind === "event" && r.seq === seq) ?? this.#incoming.find((r) => r.kind === "event" && r.seq === seq);
    return row?.kind === "event" ? row.event : undefined;
  }

  /** The event row next to `seq` in display order (`+1` older, `-1` newer), or the newest one when `seq` is null. */
  neighbour(seq: number | null, direction: 1 | -1): number | null {
    const events = this.#rows.filter((r) => r.kind === "event");
    if (events.length === 0) {
      return null;
    }

    if (seq === null) {
      return events[events.length - 1]!.seq;
    }

    // Display order is newest first: older means a lower index in #rows.
    const index = events.findIndex((r) => r.seq === seq);
    const next = index < 0 ? undefined : events[index - direction];
    return next ? next.seq : null;
  }

  /** Scrolls so that the row of `seq` is visible. */
  reveal(seq: number): void {
    const index = this.#rows.length - 1 - this.#rows.findIndex((r) => r.seq === seq && r.kind === "event");
    if (index >= this.#rows.length) {
      return;
    }

    const { scroller } = this.view;
    const top = index * ROW_HEIGHT;
    if (top < scroller.scrollTop) {
      scroller.scrollTop = top;
    } else if (top + ROW_HEIGHT > scroller.scrollTop + scroller.clientHeight) {
      scroller.scrollTop = top + ROW_HEIGHT - scroller.clientHeight;
    }

    this.#schedule();
  }

  addEvent(seq: number, event: AuditEvent): void {
    if (this.#seqs.has(seq)) {
      return;
    }

    this.#seqs.add(seq);
    this.#push({ kind: "event", seq, event });
  }

  addGap(from: number, to: number, reason: string): void {
    // Sorted just above the events it stands for, so that filling it from the ledger puts them beneath it.
    this.#push({ kind: "gap", seq: to + 0.5, from, to, reason });
  }

  /** Says on the gap row what reading its seqs from the ledger gave (or is doing). */
  markGap(from: number, to: number, text: string): void {
    for (const row of [...this.#rows, ...this.#incoming]) {
      if (row.kind === "gap" && row.from === from && row.to === to) row.filled = text;
    }

    this.#schedule();
  }

  clear(): void {
    this.#rows = [];
    this.#incoming = [];
    this.#seqs.clear();
    this.#dropped = 0;
    this.#schedule();
  }

  pause(): void {
    this.#paused = true;
    this.#schedule();
  }

  /** Shows everything that arrived while paused and scrolls back to the newest row. */
  resume(): void {
    this.#paused = false;
    this.view.scroller.scrollTop = 0;
    this.#schedule();
  }

  select(seq: number | null): void {
    this.#selected = seq;
    this.#schedule();
  }

  #push(row: Row): void {
    this.#incoming.push(row);
    if (this.#incoming.length > this.cap) {
      this.#trim(this.#incoming, this.#incoming.length - this.cap);
    }

    this.#scheduleArrival();
  }

  #trim(rows: Row[], count: number): void {
    for (const row of rows.splice(0, count)) {
      if (row.kind === "event") {
        this.#seqs.delete(row.seq);
        this.#dropped++;
      }
    }
  }

  /**
   * Arrivals render at most every ARRIVAL_MS (a fast stream then costs ten renders a second, not sixty, which a reader
   * cannot follow anyway); scrolling, selection and pause render on the next frame.
   */
  #scheduleArrival(): void {
    if (this.#frame !== 0 || this.#arrivalTimer !== null) {
      return;
    }

    const wait = this.#lastRender + ARRIVAL_MS - performance.now();
    if (wait <= 0) {
      this.#schedule();
      return;
    }

    this.#arrivalTimer = setTimeout(() => {
      this.#arrivalTimer = null;
      this.#schedule();
    }, wait);
  }

  #schedule(): void {
    if (this.#frame === 0) {
      this.#frame = requestAnimationFrame(() => {
        this.#frame = 0;
        this.#render();
      });
    }
  }

  #render(): void {
    this.#lastRender = performance.now();
    if (!this.#paused) {
      const last = this.#rows.at(-1)?.seq ?? 0;
      const first = this.#incoming[0]?.seq;
      this.#rows.push(...this.#incoming.splice(0));
      if (first !== undefined && first < last) {
        // Older pages were loaded while these rows waited: keep seq order.
        this.#rows.sort((x, y) => x.seq - y.seq);
      }

      // Older pages loaded while paused may take the buffer past its cap; back at live it is the newest `cap` again.
      if (this.#rows.length > this.cap) {
        this.#trim(this.#rows, this.#rows.length - this.cap);
      }
    }

    const { scroller, spacer, window: win, capNotice } = this.view;
    const count = this.#rows.length;
    spacer.style.height = `${count * ROW_HEIGHT}px`;
    const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const visible = Math.ceil((scroller.clientHeight || 600) / ROW_HEIGHT) + 2 * OVERSCAN;
    const last = Math.min(count, first + visible);
    win.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
    const elements: HTMLElement[] = [];
    for (let i = first; i < last; i++) {
      elements.push(this.#rowElement(this.#rows[count - 1 - i]!));
    }

    win.replaceChildren(...elements);
    capNotice.hidden = this.#dropped === 0;
    capNotice.textContent = `Showing the newest ${this.cap.toLocaleString("en")} events: ${this.#dropped.toLocaleString("en")} older ones were dropped from this view (they are still in the ledger).`;
    this.view.onRender();
  }

  #rowElement(row: Row): HTMLElement {
    const element = document.createElement("div");
    element.setAttribute("role", "row");
    if (row.kind === "gap") {
      element.className = "row gap";
      element.dataset.gap = `${row.from}-${row.to}`;
      const range = row.from === row.to ? `seq ${row.from}` : `seqs ${row.from}–${row.to}`;
      element.append(cell(`Gap: ${range} not sent to this console (${row.reason === "rate_limited" ? "rate limited" : row.reason}); they are in the ledger`, "gap-text"));
      if (row.filled) {
        element.append(cell(row.filled, "gap-filled"));
      } else {
        const load = document.createElement("button");
        load.type = "button";
        load.className = "fill-gap";
        load.textContent = "Load them";
        load.title = "Read the skipped events matching the filters from the ledger (GET /api/v1/events)";
        load.addEventListener("click", () => this.view.onFillGap(row.from, row.to));
        element.append(load);
      }

      return element;
    }

    const e = row.event;
    element.className = `row sev-${e.severity}${row.seq === this.#selected ? " selected" : ""}`;
    element.dataset.seq = String(row.seq);
    element.tabIndex = -1;
    const filter = this.view.onFilter;
    element.append(
      cell(String(row.seq), "seq"),
      cell(time(e.timestamp), "time"),
      valueCell("severity", [["severity", e.severity]], filter),
      valueCell("type", [["type", e.type]], filter),
      valueCell("who", [["actor_id", e.actor_id], ["target_id", e.target_id]], filter, " → "),
      valueCell("outcome", [["outcome", e.outcome, e.outcome ?? ""]], filter),
      valueCell("tenant", [["tenant_id", e.tenant_id, e.tenant_id ?? ""]], filter),
    );
    element.addEventListener("click", () => this.view.onSelect(row.seq));
    return element;
  }
}
