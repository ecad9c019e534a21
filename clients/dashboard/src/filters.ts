// The filter bar: severity chips and event types, kept in the URL query (?severities=error,critical&event_types=auth.*)
// for deep links, and applied to the open stream with update_filters (no reconnect).
import type { AuditStreamConnection } from "../../js/src/index.js";
import type { StreamFilter } from "../../js/src/types.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

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


export const SEVERITIES = ["critical", "error", "warning", "info"];

function listParam(params: URLSearchParams, name: string): string[] {
  return (params.get(name) ?? "").split(",").map((s) => s.trim()).filter(Boolean);
}

export function currentFilters(): StreamFilter | undefined {
  const params = new URLSearchParams(location.search);
  const filters: StreamFilter = {};
  const severities = listParam(params, "severities").filter((s) => SEVERITIES.includes(s));
  const types = listParam(params, "event_types");
  if (severities.length) filters.severities = severities;
  if (types.length) filters.event_types = types;
  return Object.keys(filters).length ? filters : undefined;
}

export function showFilters(): void {
  const filters = currentFilters() ?? {};
  for (const chip of document.querySelectorAll<HTMLButtonElement>("[data-severity]")) {
    chip.setAttribute("aria-pressed", String(filters.severities?.includes(chip.dataset.severity!) ?? false));
  }

  $<HTMLInputElement>("types-input").value = (filters.event_types ?? []).join(", ");
}

export function showFilterStatus(text: string, error = false): void {
  const element = $("filter-status");
  element.textContent = text;
  element.classList.toggle("error", error);
}

async function applyFilters(stream: AuditStreamConnection | null): Promise<void> {
  const severities = [...document.querySelectorAll<HTMLButtonElement>("[data-severity][aria-pressed=true]")].map((c) => c.dataset.severity!);
  const types = $<HTMLInputElement>("types-input").value.split(",").map((s) => s.trim()).filter(Boolean);
  const params = new URLSearchParams(location.search);
  for (const [name, values] of [["severities", severities], ["event_types", types]] as const) {
    if (values.length) params.set(name, values.join(","));
    else params.delete(name);
  }

  const previous = location.search;
  const query = params.toString();
  history.replaceState(history.state, "", `${location.pathname}${query ? `?${query}` : ""}${location.hash}`);
  if (!stream) {
    return;
  }

  showFilterStatus("Applying…");
  const connection = stream;
  const wanted = currentFilters() ?? {};
  // The server answers a filter it refuses with audit.error (invalid_filter), not audit.filters.updated.
  const refused = new Promise<never>((_, reject) => {
    refuse = (why) => reject(new Error(why));
  });
  try {
    await Promise.race([connection.updateFilters(wanted), refused]);
    showFilterStatus("Applied to new events.");
  } catch (error) {
    // The filters in force are still the previous ones: keep them for reconnects and in the URL.
    history.replaceState(history.state, "", `${location.pathname}${previous}${location.hash}`);
    connection.updateFilters(currentFilters() ?? {}).catch(() => undefined);
    showFilterStatus(`Not applied: ${(error as Error).message}`, true);
  } finally {
    refuse = null;
  }
}

/** Adds a drawer value to the filters and applies them. */
export function filterBy(stream: AuditStreamConnection | null, field: "severity" | "type" | string, value: string): void {
  if (field === "severity") {
    document.querySelector(`[data-severity="${value}"]`)?.setAttribute("aria-pressed", "true");
  } else {
    const input = $<HTMLInputElement>("types-input");
    const types = input.value.split(",").map((t) => t.trim()).filter(Boolean);
    if (!types.includes(value)) {
      input.value = [...types, value].join(", ");
    }
  }

  void applyFilters(stream);
}

/** Applies the chips and the types field when they change. */
export function wireFilters(getStream: () => AuditStreamConnection | null): void {
  for (const chip of document.querySelectorAll<HTMLButtonElement>("[data-severity]")) {
    chip.addEventListener("click", () => {
      chip.setAttribute("aria-pressed", String(chip.getAttribute("aria-pressed") !== "true"));
      void applyFilters(getStream());
    });
  }

  $("filters").addEventListener("submit", (e) => {
    e.preventDefault();
    void applyFilters(getStream());
  });
}
