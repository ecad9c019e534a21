import { AuthError, HttpError, type ProblemError } from "./errors.js";
import type { AuditEvent, Receipt } from "./types.js";

export interface PublishOptions {
  /** Server base address, e.g. `http://localhost:8080`. */
  url: string;
  /** Bearer token with scope `audit:write`. */
  token?: string;
  /** A `fetch` implementation (default: the global one). */
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

/**
 * Appends one event (returns its receipt) or a batch (all or none; returns receipts in order) once the server committed
 * them. Give events an `id` to make retries safe: the server returns the original record for an id it already has.
 */
export async function publish(options: PublishOptions, event: AuditEvent): Promise<Receipt>;
export async function publish(options: PublishOptions, events: AuditEvent[]): Promise<Receipt[]>;
export async function publish(options: PublishOptions, body: AuditEvent | AuditEvent[]): Promise<Receipt | Receipt[]> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const response = await doFetch(new URL("api/v1/events", withSlash(options.url)), {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    body: JSON.stringify(Array.isArray(body) ? body : [body]),
    signal: options.signal ?? null,
  });
  const text = await response.text();
  if (!response.ok) {
    throw await httpError(response.status, text);
  }

  const receipts = (JSON.parse(text) as { events: Receipt[] }).events;
  return Array.isArray(body) ? receipts : receipts[0]!;
}

/** The typed error for an HTTP failure, with the problem body's field and rule list. */
export function httpError(status: number, text: string): HttpError {
  let problem: { detail?: string; title?: string; errors?: ProblemError[] } | undefined;
  try {
    problem = text ? JSON.parse(text) : undefined;
  } catch {
    problem = undefined;
  }

  const errors = problem?.errors ?? [];
  const detail =
    problem?.detail ??
    problem?.title ??
    (status === 401 ? "Unauthorized: the token is missing, expired or not trusted" : status === 403 ? "Forbidden: the token lacks the role, scope or tenant" : text.slice(0, 200));
  const listed = errors.length ? `: ${errors.map((e) => `${e.index !== undefined ? `[${e.index}] ` : ""}${e.field} ${e.rule}`).join("; ")}` : "";
  const message = `${status} ${detail}${listed}`;
  return status === 401 || status === 403 ? new AuthError(status, message, errors, problem) : new HttpError(status, message, errors, problem);
}

export function withSlash(url: string): string {
  return url.endsWith("/") ? url : `${url}/`;
}
