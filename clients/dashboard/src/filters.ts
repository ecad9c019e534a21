// The filter bar, one control per stream filter (DESIGN.md §5): severities, event types (exact or prefixes like
// auth.*), categories, actors, targets, a relative or absolute time range, compliance only, security only and `match`
// predicates. The URL query is where the filters live, in the syntax of GET /api/v1/events (so a link opens the console
// with them, and Export hands them to the server as they are); the open stream gets them with update_filters (no
// reconnect). Filters can be saved by name in localStorage, and any value of a row or the drawer adds itself.
import type { AuditStreamConnection } from "../../js/src/index.js";
import type { MatchPredicate, StreamFilter } from "../../js/src/types.js";
import { $ } from "./dom.js";

export const SEVERITIES = ["critical", "error", "warning", "info"];
const RELATIVE = ["1h", "24h", "7d", "30d"];
const SAVED_KEY = "auditstream.console.saved-filters";

/** The query parameters that are filters (the rest of the query, if any, is left alone). */
const FILTER_PARAMS = ["severities", "event_types", "categories", "actor_ids", "target_ids", "relative", "start", "end", "compliance_only", "security_only", "match"];

/** The text inputs that hold a comma-separated list, by query parameter. */
const LIST_INPUTS: Record<string, string> = {
  event_types: "types-input",
  categories: "categories-input",
  actor_ids: "actors-input",
  target_ids: "targets-input",
};

/** Event fields with a list filter of their own; any other value filters through a `match` eq predicate. */
const LIST_FIELDS: Record<string, string> = { type: "event_types", category: "categories", actor_id: "actor_ids", target_id: "target_ids" };

/** Set while a filter change waits for the server: rejects it with the server's field and rule. */
let refuse: ((why: string) => void) | null = null;

/** Hands the server's refusal (audit.error invalid_filter) to the change waiting for it; false when none waits. */
export function refuseFilter(why: string): boolean {
  if (!refuse) {
    return false;
  }

  refuse(why);
  return true;
}

function split(value: string | null): string[] {
  return (value ?? "").split(",").map((s) => s.trim()).filter(Boolean);
}

/** `field:op:value` (the query syntax of GET /api/v1/events) as the stream's `{field, op, value}`, typed as the server types it. */
export function parsePredicate(text: string): MatchPredicate {
  const first = text.indexOf(":");
  if (first < 0) {
    // Not field:op:value: sent as it is, so that the server says which rule it breaks.
    return { field: text, op: "" as MatchPredicate["op"] };
  }

  const second = text.indexOf(":", first + 1);
  const field = text.slice(0, first);
  const op = (second < 0 ? text.slice(first + 1) : text.slice(first + 1, second)) as MatchPredicate["op"];
  const operand = second < 0 ? undefined : text.slice(second + 1);
  if (operand === undefined) return { field, op };
  if (op === "in") return { field, op, value: split(operand) };
  if (op === "exists" && (operand === "true" || operand === "false")) return { field, op, value: operand === "true" };
  return { field, op, value: operand };
}

function flag(params: URLSearchParams, name: string): boolean {
  const value = params.get(name);
  return value !== null && value !== "false" && value !== "0";
}

/** The stream filters a query string describes (undefined for none). */
export function filtersFromQuery(search: string): StreamFilter | undefined {
  const params = new URLSearchParams(search);
  const filters: StreamFilter = {};
  const severities = split(params.get("severities"));
  if (severities.length) filters.severities = severities;
  for (const name of ["event_types", "categories", "actor_ids", "target_ids"] as const) {
    const values = split(params.get(name));
    if (values.length) filters[name] = values;
  }

  const relative = params.get("relative");
  const start = params.get("start");
  const end = params.get("end");
  if (relative) {
    filters.time_range = { relative: relative as "1h" };
  } else if (start || end) {
    filters.time_range = { ...(start ? { start } : {}), ...(end ? { end } : {}) };
  }

  if (flag(params, "compliance_only")) filters.compliance_only = true;
  if (flag(params, "security_only")) filters.security_only = true;
  const match = params.getAll("match").map((m) => m.trim()).filter(Boolean).map(parsePredicate);
  if (match.length) filters.match = match;
  return Object.keys(filters).length ? filters : undefined;
}

export function currentFilters(): StreamFilter | undefined {
  return filtersFromQuery(location.search);
}

/** RFC 3339 (UTC) to the value of a datetime-local input (local time), or "" when it is not a time. */
function toLocalInput(iso: string | null): string {
  const date = iso ? new Date(iso) : null;
  if (!date || Number.isNaN(date.getTime())) {
    return "";
  }

  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** A time input's instant in RFC 3339 (UTC); the link's own text when the field still shows what the link said. */
function fromLocalInput(input: HTMLInputElement): string {
  if (!input.value) {
    return "";
  }

  if (input.dataset.shown === input.value && input.dataset.iso) {
    return input.dataset.iso;
  }

  const date = new Date(input.value);
  return Number.isNaN(date.getTime()) ? input.value : date.toISOString().replace(".000Z", "Z");
}

function showTime(input: HTMLInputElement, iso: string | null): void {
  input.value = toLocalInput(iso);
  input.dataset.iso = iso ?? "";
  input.dataset.shown = input.value;
}

/** Sets the controls from the URL. */
export function showFilters(): void {
  const params = new URLSearchParams(location.search);
  const severities = split(params.get("severities"));
  for (const chip of document.querySelectorAll<HTMLButtonElement>("[data-severity]")) {
    chip.setAttribute("aria-pressed", String(severities.includes(chip.dataset.severity!)));
  }

  for (const [name, id] of Object.entries(LIST_INPUTS)) {
    $<HTMLInputElement>(id).value = split(params.get(name)).join(", ");
  }

  const relative = params.get("relative");
  const range = !relative && (params.has("start") || params.has("end"));
  const time = $<HTMLSelectElement>("time-select");
  time.querySelectorAll("option[data-extra]").forEach((o) => o.remove());
  if (relative && !RELATIVE.includes(relative)) {
    // A value the select does not list (the server will say what is allowed): shown so that it can be corrected.
    const option = document.createElement("option");
    option.value = relative;
    option.textContent = relative;
    option.dataset.extra = "true";
    time.append(option);
  }

  time.value = relative ?? (range ? "range" : "");
  showTime($<HTMLInputElement>("start-input"), params.get("start"));
  showTime($<HTMLInputElement>("end-input"), params.get("end"));
  showRange();
  $<HTMLInputElement>("compliance-only").checked = flag(params, "compliance_only");
  $<HTMLInputElement>("security-only").checked = flag(params, "security_only");
  $<HTMLInputElement>("match-input").value = params.getAll("match").join("; ");
}

function showRange(): void {
  const range = $<HTMLSelectElement>("time-select").value === "range";
  $("range-inputs").hidden = !range;
}

/** The query the controls describe (the other parameters of the URL kept). */
function queryFromControls(): URLSearchParams {
  const params = new URLSearchParams(location.search);
  for (const name of FILTER_PARAMS) params.delete(name);
  const severities = [...document.querySelectorAll<HTMLButtonElement>("[data-severity][aria-pressed=true]")].map((c) => c.dataset.severity!);
  if (severities.length) params.set("severities", severities.join(","));
  for (const [name, id] of Object.entries(LIST_INPUTS)) {
    const values = split($<HTMLInputElement>(id).value);
    if (values.length) params.set(name, values.join(","));
  }

  const time = $<HTMLSelectElement>("time-select").value;
  if (time === "range") {
    const start = fromLocalInput($<HTMLInputElement>("start-input"));
    const end = fromLocalInput($<HTMLInputElement>("end-input"));
    if (start) params.set("start", start);
    if (end) params.set("end", end);
  } else if (time) {
    params.set("relative", time);
  }

  if ($<HTMLInputElement>("compliance-only").checked) params.set("compliance_only", "true");
  if ($<HTMLInputElement>("security-only").checked) params.set("security_only", "true");
  for (const predicate of $<HTMLInputElement>("match-input").value.split(";").map((m) => m.trim()).filter(Boolean)) {
    params.append("match", predicate);
  }

  return params;
}

export function showFilterStatus(text: string, error = false): void {
  const element = $("filter-status");
  element.textContent = text;
  element.classList.toggle("error", error);
}

function setQuery(search: string): void {
  const query = search.startsWith("?") ? search.slice(1) : search;
  history.replaceState(history.state, "", `${location.pathname}${query ? `?${query}` : ""}${location.hash}`);
}

export interface FilterHost {
  /** The open stream, or null when there is none (signed out, or refused at connect). */
  stream(): AuditStreamConnection | null;
  /** Starts the stream with the URL's filters (after a connect-time refusal). */
  restart(): void;
  /** Told once the server put new filters in force (the table then starts again under them). */
  changed(filters: StreamFilter): void;
}

let host: FilterHost | null = null;

async function applyFilters(): Promise<void> {
  const previous = location.search;
  const next = queryFromControls().toString();
  const before = JSON.stringify(currentFilters() ?? {});
  setQuery(next);
  const wanted = currentFilters() ?? {};
  const stream = host?.stream() ?? null;
  if (!stream) {
    showFilterStatus("Connecting with these filters…");
    host?.restart();
    return;
  }

  showFilterStatus("Applying…");
  // The server answers a filter it refuses with audit.error (invalid_filter), not audit.filters.updated.
  const refused = new Promise<never>((_, reject) => {
    refuse = (why) => reject(new Error(why));
  });
  try {
    await Promise.race([stream.updateFilters(wanted), refused]);
    showFilterStatus("Applied to new events.");
    if (before !== JSON.stringify(wanted)) host?.changed(wanted);
  } catch (error) {
    // The filters in force are still the previous ones: keep them for reconnects and in the URL.
    setQuery(previous);
    stream.updateFilters(currentFilters() ?? {}).catch(() => undefined);
    showFilterStatus(`Not applied: ${(error as Error).message}`, true);
  } finally {
    refuse = null;
  }
}

function addToList(id: string, value: string): void {
  const input = $<HTMLInputElement>(id);
  const values = split(input.value);
  if (!values.includes(value)) {
    input.value = [...values, value].join(", ");
  }
}

/** Adds an event's value to the filters and applies them: `field` is an event field or a dotted path (`metadata.region`). */
export function filterBy(field: string, value: string): void {
  if (field === "severity" && SEVERITIES.includes(value)) {
    document.querySelector(`[data-severity="${value}"]`)?.setAttribute("aria-pressed", "true");
  } else if (LIST_FIELDS[field]) {
    addToList(LIST_INPUTS[LIST_FIELDS[field]!]!, value);
  } else {
    const input = $<HTMLInputElement>("match-input");
    const predicates = input.value.split(";").map((m) => m.trim()).filter(Boolean);
    const predicate = `${field}:eq:${value}`;
    if (!predicates.includes(predicate)) {
      input.value = [...predicates, predicate].join("; ");
    }
  }

  void applyFilters();
}

/** Whether filtering by this field is possible (pii never: the server refuses it, masked personal data). */
export function filterable(field: string): boolean {
  return field !== "pii" && !field.startsWith("pii.");
}

// ---- saved filters (localStorage: name → query) ----

function savedFilters(): Record<string, string> {
  try {
    const value = JSON.parse(localStorage.getItem(SAVED_KEY) ?? "{}") as unknown;
    return value && typeof value === "object" ? (value as Record<string, string>) : {};
  } catch {
    return {};
  }
}

function showSaved(selected = ""): void {
  const select = $<HTMLSelectElement>("saved-select");
  const placeholder = document.createElement("option");
  placeholder.value = "";
  placeholder.textContent = "Saved filters…";
  const options = Object.keys(savedFilters()).sort().map((name) => {
    const option = document.createElement("option");
    option.value = name;
    option.textContent = name;
    return option;
  });
  select.replaceChildren(placeholder, ...options);
  select.value = selected;
  $("delete-filter").hidden = !selected;
}

function saveCurrent(): void {
  const name = $<HTMLInputElement>("save-name").value.trim();
  if (!name) {
    showFilterStatus("Name the filters to save them.", true);
    $("save-name").focus();
    return;
  }

  const saved = savedFilters();
  const params = new URLSearchParams(location.search);
  const query = new URLSearchParams();
  for (const [key, value] of params) if (FILTER_PARAMS.includes(key)) query.append(key, value);
  saved[name] = query.toString();
  localStorage.setItem(SAVED_KEY, JSON.stringify(saved));
  $<HTMLInputElement>("save-name").value = "";
  showSaved(name);
  showFilterStatus(`Saved as "${name}".`);
}

function openSaved(name: string): void {
  const query = savedFilters()[name];
  $("delete-filter").hidden = !name;
  if (query === undefined) {
    return;
  }

  const params = new URLSearchParams(location.search);
  for (const key of FILTER_PARAMS) params.delete(key);
  for (const [key, value] of new URLSearchParams(query)) params.append(key, value);
  // The controls show the saved filters; applying them goes through the server like any change.
  const previous = location.search;
  setQuery(params.toString());
  showFilters();
  setQuery(previous);
  void applyFilters();
}

function deleteSaved(): void {
  const name = $<HTMLSelectElement>("saved-select").value;
  const saved = savedFilters();
  delete saved[name];
  localStorage.setItem(SAVED_KEY, JSON.stringify(saved));
  showSaved();
  showFilterStatus(`Deleted "${name}".`);
}

/** Wires the controls: chips and checkboxes apply at once, text fields on Enter or Apply. */
export function wireFilters(filterHost: FilterHost): void {
  host = filterHost;
  for (const chip of document.querySelectorAll<HTMLButtonElement>("[data-severity]")) {
    chip.addEventListener("click", () => {
      chip.setAttribute("aria-pressed", String(chip.getAttribute("aria-pressed") !== "true"));
      void applyFilters();
    });
  }

  for (const id of ["compliance-only", "security-only"]) {
    $(id).addEventListener("change", () => void applyFilters());
  }

  $("time-select").addEventListener("change", () => {
    showRange();
    if ($<HTMLSelectElement>("time-select").value !== "range") void applyFilters();
  });
  $("filters").addEventListener("submit", (e) => {
    e.preventDefault();
    void applyFilters();
  });
  $("clear-filters").addEventListener("click", () => {
    const params = new URLSearchParams(location.search);
    for (const name of FILTER_PARAMS) params.delete(name);
    const previous = location.search;
    setQuery(params.toString());
    showFilters();
    setQuery(previous);
    void applyFilters();
  });
  $("save-filter").addEventListener("click", saveCurrent);
  $("saved-select").addEventListener("change", () => openSaved($<HTMLSelectElement>("saved-select").value));
  $("delete-filter").addEventListener("click", deleteSaved);
  showSaved();
}
