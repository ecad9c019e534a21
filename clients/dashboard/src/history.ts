// Past and live in one view: below the live rows, older events matching the same filters are read from the ledger
// with GET /api/v1/events (the URL's filter query as it is). That endpoint pages forward by seq (`since_seq`), so the
// console reads backwards window by window: seqs (lower, before) with `limit` = the window's width, which holds every
// match of the window in one page unless the server's scan budget ends it first (then its `next` link goes on).
import type { AuditEvent } from "../../js/src/types.js";

/** Seqs per window, and the page limit (within the server's MaxPageSize, 1,000 by default). */
const WINDOW = 500;
/** Events wanted per load; windows are read until this many are found, the ledger starts, or the request budget is spent. */
const WANTED = 200;
/** Requests per load: a filter that matches little is searched back this far (WINDOW × REQUESTS seqs), then asks again. */
const REQUESTS = 20;

export type OlderPage =
  | { ok: true; events: AuditEvent[]; /** Every seq at or above this one has been looked at. */ scannedFrom: number }
  | { ok: false; failure: string };

interface EventsPage {
  events?: AuditEvent[];
  next?: string | null;
  cursor?: number;
}

/** What a failed response says: the problem's detail and its field and rule, as the server wrote them. */
export async function problemText(response: Response): Promise<string> {
  try {
    const problem = (await response.json()) as { detail?: string; title?: string; errors?: Array<{ field?: string; rule?: string }> };
    const errors = (problem.errors ?? []).map((e) => `${e.field ?? ""} ${e.rule ?? ""}`.trim()).filter(Boolean);
    const detail = problem.detail ?? problem.title ?? "";
    return `${response.status}${detail ? ` ${detail}` : ""}${errors.length ? `: ${errors.join("; ")}` : ""}`;
  } catch {
    return String(response.status);
  }
}

/** Reads matching events with seq below `before`, newest windows first, in seq order. */
export async function loadOlder(before: number, filterQuery: string, token: string): Promise<OlderPage> {
  const found: AuditEvent[] = [];
  let upper = before; // exclusive
  let requests = 0;
  while (upper > 1 && found.length < WANTED && requests < REQUESTS) {
    const lower = Math.max(0, upper - 1 - WINDOW);
    const params = new URLSearchParams(filterQuery);
    params.set("since_seq", String(lower));
    params.set("limit", String(WINDOW));
    let url: string | null = `/api/v1/events?${params}`;
    const window: AuditEvent[] = [];
    while (url && requests < REQUESTS) {
      requests++;
      const response = await fetch(url, { headers: { authorization: `Bearer ${token}` }, cache: "no-store" });
      if (!response.ok) {
        return { ok: false, failure: `GET /api/v1/events answered ${await problemText(response)}` };
      }

      const page = (await response.json()) as EventsPage;
      const events = page.events ?? [];
      window.push(...events.filter((e) => typeof e.seq === "number" && e.seq < upper));
      // Done with the window once the page reached its top, or the range (up to the ledger's head) ended.
      const reached = (page.cursor ?? upper) >= upper - 1 || events.some((e) => (e.seq ?? 0) >= upper - 1);
      url = reached || !page.next ? null : page.next;
    }

    if (url) {
      // The budget ended inside this window (the server's scan budget, 10,000 rows, is far wider than a window, so
      // this is rare): drop the window's part rather than leave a hole between it and what is shown.
      return { ok: true, events: found, scannedFrom: upper };
    }

    found.unshift(...window);
    upper = lower + 1;
  }

  return { ok: true, events: found, scannedFrom: upper };
}

/** Reads every matching event with seq in [from, to] (what a gap skipped), following `next` links. */
export async function loadRange(from: number, to: number, filterQuery: string, token: string): Promise<OlderPage> {
  const params = new URLSearchParams(filterQuery);
  params.set("since_seq", String(from - 1));
  params.set("limit", String(Math.min(1000, to - from + 1)));
  let url: string | null = `/api/v1/events?${params}`;
  const found: AuditEvent[] = [];
  for (let requests = 0; url && requests < REQUESTS * 5; requests++) {
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` }, cache: "no-store" });
    if (!response.ok) {
      return { ok: false, failure: `GET /api/v1/events answered ${await problemText(response)}` };
    }

    const page = (await response.json()) as EventsPage;
    const events = page.events ?? [];
    found.push(...events.filter((e) => typeof e.seq === "number" && e.seq >= from && e.seq <= to));
    const reached = (page.cursor ?? to) >= to || events.some((e) => (e.seq ?? 0) >= to);
    url = reached || !page.next ? null : page.next;
  }

  return { ok: true, events: found, scannedFrom: from };
}
