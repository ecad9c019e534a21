// The admin views, offered only when the server connected the stream as admin: connected stream clients
// (/debug/websocket/audit/clients), sinks with their lag and dead letters (/api/v1/sinks) and the ledger's status
// (/debug/websocket/audit/stats, the latest checkpoint, the verifier key). The server decides: a refusal (a 403 for an
// admin whose token names one tenant, on the server-wide views) is shown with the problem's detail.
import { problemText } from "./history.js";
import { pinnedKey } from "./ledger.js";

const REFRESH_MS = 5000;

type Json = Record<string, unknown>;

function text(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function table(headers: string[], rows: unknown[][], empty: string): HTMLElement {
  if (rows.length === 0) {
    const p = document.createElement("p");
    p.className = "muted";
    p.textContent = empty;
    return p;
  }

  const element = document.createElement("table");
  const head = element.createTHead().insertRow();
  for (const header of headers) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = header;
    head.append(th);
  }

  const body = element.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    for (const value of row) tr.insertCell().textContent = text(value);
  }

  return element;
}

function failure(message: string): HTMLElement {
  const p = document.createElement("p");
  p.className = "admin-error";
  p.setAttribute("role", "alert");
  p.textContent = message;
  return p;
}

export class AdminPanel {
  #timer: ReturnType<typeof setInterval> | null = null;
  #token: string | null = null;

  constructor(private readonly button: HTMLElement, private readonly panel: HTMLElement, private readonly sections: { ledger: HTMLElement; clients: HTMLElement; sinks: HTMLElement }) {}

  /** Offers the panel to admins only (the role the server connected the stream as). */
  forRole(role: string, token: string): void {
    this.#token = token;
    this.button.hidden = role !== "admin";
    if (role !== "admin") this.toggle(false);
  }

  /** A renewed token (OIDC refresh) for the next refreshes of the open views. */
  useToken(token: string): void {
    if (this.#token) this.#token = token;
  }

  clear(): void {
    this.#token = null;
    this.button.hidden = true;
    this.toggle(false);
  }

  toggle(open = this.panel.hidden): void {
    this.panel.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
    if (this.#timer) {
      clearInterval(this.#timer);
      this.#timer = null;
    }

    if (open) {
      void this.refresh();
      this.#timer = setInterval(() => void this.refresh(), REFRESH_MS);
    }
  }

  async #get(path: string): Promise<Json | string> {
    const response = await fetch(path, { headers: { authorization: `Bearer ${this.#token ?? ""}` }, cache: "no-store" });
    if (!response.ok) {
      return `GET ${path.split("?")[0]} answered ${await problemText(response)}`;
    }

    return (await response.json()) as Json;
  }

  async refresh(): Promise<void> {
    if (!this.#token) return;
    const [stats, clients, sinks] = await Promise.all([
      this.#get("/debug/websocket/audit/stats").catch((e: Error) => e.message),
      this.#get("/debug/websocket/audit/clients?page_size=200").catch((e: Error) => e.message),
      this.#get("/api/v1/sinks").catch((e: Error) => e.message),
    ]);
    if (this.panel.hidden) return;
    this.#showLedger(stats);
    this.#showClients(clients);
    this.#showSinks(sinks);
    this.panel.dataset.refreshedAt = new Date().toISOString();
  }

  #showLedger(stats: Json | string): void {
    const key = pinnedKey();
    const keyLine = document.createElement("p");
    keyLine.className = "muted";
    keyLine.textContent = key ? `Verifier key pinned in this browser: ${key.key}` : "No verifier key pinned yet (Verify or the first sign-in pins it).";
    if (typeof stats === "string") {
      this.sections.ledger.replaceChildren(failure(stats), keyLine);
      return;
    }

    const ledger = (stats.ledger ?? {}) as Json;
    const connections = (stats.connections ?? {}) as Json;
    const events = (stats.events ?? {}) as Json;
    const rates = (stats.rates ?? {}) as Json;
    const age = typeof ledger.checkpoint_age_seconds === "number" ? `${ledger.checkpoint_age_seconds.toFixed(1)} s ago` : "—";
    const list = document.createElement("dl");
    list.className = "admin-facts";
    const facts: Array<[string, unknown]> = [
      ["tree size", ledger.tree_size],
      ["last checkpoint", ledger.checkpoint_tree_size === null || ledger.checkpoint_tree_size === undefined ? "none yet" : `tree size ${text(ledger.checkpoint_tree_size)}, signed ${age}`],
      ["queued to commit", ledger.queued_events],
      ["last commit", ledger.last_commit_at],
      ["commit failure", ledger.last_commit_failure ?? "none"],
      ["stream clients", `${text(connections.active)} of ${text(connections.max_clients)}`],
      ["published / dropped", `${text(events.published)} / ${text(events.dropped)}`],
      ["server rate", typeof rates.events_published_per_second === "number" ? `${rates.events_published_per_second.toFixed(1)} events/s` : "—"],
    ];
    for (const [name, value] of facts) {
      const dt = document.createElement("dt");
      dt.textContent = name;
      const dd = document.createElement("dd");
      dd.dataset.fact = name;
      dd.textContent = text(value);
      list.append(dt, dd);
    }

    this.sections.ledger.replaceChildren(list, keyLine);
  }

  #showClients(page: Json | string): void {
    if (typeof page === "string") {
      this.sections.clients.replaceChildren(failure(page));
      return;
    }

    const clients = (page.clients ?? []) as Json[];
    const total = document.createElement("p");
    total.className = "muted";
    total.textContent = `${text(page.total)} connected${clients.length < Number(page.total ?? 0) ? ` (the first ${clients.length} shown)` : ""}`;
    this.sections.clients.replaceChildren(total, table(
      ["client", "role", "tenant", "transport", "address", "connected", "queue", "delivered", "dropped", "filters"],
      clients.map((c) => [c.client_id, c.role, c.tenant_id ?? "all", c.transport, c.remote_address, c.connected_at, c.queue_depth, c.delivered, c.dropped, c.filters]),
      "No stream clients.",
    ));
  }

  #showSinks(response: Json | string): void {
    if (typeof response === "string") {
      this.sections.sinks.replaceChildren(failure(response));
      return;
    }

    const sinks = (response.sinks ?? []) as Json[];
    this.sections.sinks.replaceChildren(table(
      ["sink", "kind", "position", "lag (events)", "lag (s)", "delivered", "failures", "dead letters", "breaker", "last error"],
      sinks.map((s) => [s.name, s.kind, s.position, s.lag_events, typeof s.lag_seconds === "number" ? s.lag_seconds.toFixed(1) : s.lag_seconds, s.delivered, s.failures, s.dead_letters, s.breaker_state, s.last_error]),
      "No sinks are configured (AuditStream:Sinks).",
    ));
  }
}
