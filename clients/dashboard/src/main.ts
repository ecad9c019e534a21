// The AuditStream web console: sign-in, the live table over the TypeScript client's stream, the detail drawer with
// in-browser verification, and severity/type filters kept in the URL.
import { AuthError, connect, FilterError, type AuditStreamConnection } from "../../js/src/index.js";
import type { AuditEvent } from "../../js/src/types.js";
import { AdminPanel } from "./admin.js";
import { AlertsPanel } from "./alerts.js";
import { checkConsistency, EMPTY_TREE, forgetPinnedKey, latestCheckpoint, pinKey, pinnedKey, verifyEvent } from "./ledger.js";
import type { VerifiedCheckpoint } from "./verify.js";
import { forget, keep, sessionFor, takeToken, type Session } from "./session.js";
import { beginSignIn, completeSignIn, oidcSettings, refreshTokens, takeCallback, type OidcSettings } from "./oidc.js";
import { currentFilters, filterable, filterBy, refuseFilter, showFilterStatus, showFilters, wireFilters } from "./filters.js";
import { loadOlder, loadRange } from "./history.js";
import { exportEvents } from "./export.js";
import { StatsPanel } from "./stats.js";
import { LiveTable } from "./table.js";
import { initTheme } from "./theme.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

let session: Session | null = null;
let stream: AuditStreamConnection | null = null;
let expiryTimer: ReturnType<typeof setTimeout> | null = null;
/** OIDC sign-in as the server offers it (GET /console.json), or null for token sign-in only. */
let oidc: OidcSettings | null = null;
/** The OIDC refresh token of this sign-in, in memory only; null for a pasted token or an issuer that sent none. */
let refreshToken: string | null = null;
let connection: "connecting" | "live" | "reconnecting" | "disconnected" = "connecting";
let connectionDetail = "";
let drawerSeq: number | null = null;
/** The drawer's event, kept apart from the table so that it stays while the table changes under new filters. */
let drawerEvent: AuditEvent | null = null;
/** The highest seq this console knows is in the ledger (the connection's last_seq, then each event's). */
let headSeq = 0;
/** Every matching seq from here up has been read back from the ledger (older pages), or null before any. */
let historyFrom: number | null = null;
let historyLoading = false;
let historyDone = false;
/** The last signed checkpoint this console checked; each reconnect proves the ledger still extends it. */
let baseline: VerifiedCheckpoint | null = null;
let opens = 0;
/** How often the ledger is proved consistent while the stream stays connected (each reconnect also checks). */
const LEDGER_CHECK_MS = 60_000;
let ledgerTimer: ReturnType<typeof setInterval> | null = null;
let ledgerChecking = false;

const table = new LiveTable({
  scroller: $("rows"),
  spacer: $("rows-spacer"),
  window: $("rows-window"),
  capNotice: $("cap-notice"),
  onSelect: (seq) => openDrawer(seq),
  onFilter: (field, value) => filterBy(field, value),
  onFillGap: (from, to) => void fillGap(from, to),
  onRender: () => showStatus(),
});

const stats = new StatsPanel($("stats-toggle"), $("stats"), $("totals"), $("rate-chart"));
const admin = new AdminPanel($("admin-toggle"), $("admin"), { ledger: $("admin-ledger"), clients: $("admin-clients"), sinks: $("admin-sinks") });
$("stats-toggle").addEventListener("click", () => stats.toggle());
$("admin-toggle").addEventListener("click", () => admin.toggle());

const alerts = new AlertsPanel($("alerts"), $("alerts-list"), $("alerts-title"), (seq) => openDrawer(seq));

// ---- sign-in ----

function showSignIn(reason = ""): void {
  $("oidc").hidden = !oidc;
  if (oidc) $("oidc-issuer").textContent = `at ${oidc.issuer}`;
  $("console").hidden = true;
  $("signin").hidden = false;
  $("signin-reason").textContent = reason;
  $<HTMLTextAreaElement>("token-input").value = "";
}

/** Signs in with a pasted token (kept for this tab) or, `via` OIDC, with an access token kept in memory only. */
function signIn(token: string, via: "token" | "oidc" = "token", refresh: string | null = null): void {
  const result = sessionFor(token);
  if (typeof result === "string") {
    forget();
    showSignIn(result);
    return;
  }

  session = result;
  refreshToken = refresh;
  if (via === "token") {
    keep(result);
  } else {
    forget();
  }

  $("signin").hidden = true;
  $("console").hidden = false;
  showIdentity(result);
  if (result.expiresAt !== null) {
    if (refreshToken) armRefresh(result.expiresAt);
    else armExpiry(result.expiresAt);
  }

  start();
}

function showIdentity(current: Session): void {
  const expires = current.expiresAt === null ? "no expiry" : `expires ${new Date(current.expiresAt).toLocaleString()}`;
  $("identity").textContent = `${current.role} · ${current.tenant} · ${expires}`;
  $("identity").title = `${current.subject ? `subject ${current.subject}` : ""}${refreshToken ? " (OpenID Connect; renewed before it expires)" : ""}`;
}

/** OIDC: renews the access token a quarter of its life (at most a minute) before it expires; at expiry without one, sign-in again. */
function armRefresh(expiresAt: number): void {
  const left = Math.max(0, expiresAt - Date.now());
  expiryTimer = setTimeout(() => void renew(expiresAt), Math.min(left - Math.min(60_000, left / 4), 2_147_483_647));
}

async function renew(expiresAt: number): Promise<void> {
  const current = session;
  if (!current || !oidc || !refreshToken) return;
  const tokens = await refreshTokens(oidc, refreshToken);
  if (session !== current) return;
  const renewed = typeof tokens === "string" ? tokens : sessionFor(tokens.accessToken);
  if (typeof renewed === "string" || typeof tokens === "string") {
    // Not renewed: the token serves until it expires, then sign-in again with why.
    refreshToken = null;
    $("identity").title = `Not renewed: ${typeof tokens === "string" ? tokens : renewed}`;
    armExpiry(expiresAt);
    return;
  }

  // The same sign-in with a fresh token: the stream asks for it at its next reconnect, API calls at their next call.
  current.token = renewed.token;
  current.expiresAt = renewed.expiresAt;
  refreshToken = tokens.refreshToken;
  admin.useToken(renewed.token);
  showIdentity(current);
  if (renewed.expiresAt !== null) armRefresh(renewed.expiresAt);
}

function armExpiry(expiresAt: number): void {
  // setTimeout holds at most 2^31-1 ms (24.8 days); a longer-lived token is looked at again then.
  expiryTimer = setTimeout(() => {
    if (session && typeof sessionFor(session.token) === "string") {
      signOut(expiredReason());
    } else if (session) {
      armExpiry(expiresAt);
    }
  }, Math.min(Math.max(0, expiresAt - Date.now()) + 50, 2_147_483_647));
}

function expiredReason(): string {
  const check = session ? sessionFor(session.token) : "Signed out.";
  return typeof check === "string" ? check : "Signed out.";
}

function signOut(reason = ""): void {
  stream?.close();
  stream = null;
  if (ledgerTimer) {
    clearInterval(ledgerTimer);
    ledgerTimer = null;
  }

  if (expiryTimer) {
    clearTimeout(expiryTimer);
    expiryTimer = null;
  }

  session = null;
  refreshToken = null;
  forget();
  closeDrawer();
  table.clear();
  alerts.clear();
  stats.clear();
  admin.clear();
  resetHistory();
  showSignIn(reason);
}

$("signin-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const key = $<HTMLInputElement>("signin-key").value.trim();
  if (!key) {
    signIn($<HTMLTextAreaElement>("token-input").value);
    return;
  }

  // Pinned before the stream connects, so that even the first checkpoint is checked against it.
  void pinKey(key).then((pinned) => {
    if (typeof pinned === "string") {
      $("signin-reason").textContent = `The verifier key cannot be pinned: ${pinned}.`;
      return;
    }

    $<HTMLInputElement>("signin-key").value = "";
    signIn($<HTMLTextAreaElement>("token-input").value);
  });
});
$("signout").addEventListener("click", () => signOut());

// ---- the stream ----

function start(): void {
  if (!session) {
    return;
  }

  table.clear();
  alerts.clear();
  stats.clear();
  admin.clear();
  resetHistory();
  baseline = null;
  opens = 0;
  headSeq = 0;
  $("ledger-warning").hidden = true;
  $("ledger-status").textContent = "";
  connection = "connecting";
  connectionDetail = "";
  showStatus();
  const current = session;
  if (ledgerTimer) clearInterval(ledgerTimer);
  ledgerTimer = setInterval(() => {
    if (session === current && connection === "live" && baseline && !ledgerChecking) {
      void checkLedger(current.token, "periodic", headSeq);
    }
  }, LEDGER_CHECK_MS);
  stream = connect({
    url: location.origin,
    // Asked at every (re)connect: after an OIDC renewal, a reconnect sends the renewed token.
    token: () => current.token,
    // A bearer.<jwt> subprotocol: the token is in no URL the server or a proxy could log.
    tokenIn: "subprotocol",
    filters: currentFilters(),
    onOpen: (m) => {
      headSeq = Math.max(headSeq, m.last_seq);
      connection = "live";
      connectionDetail = "";
      alerts.forRole(m.role);
      admin.forRole(m.role, current.token);
      showStatus();
      void checkLedger(current.token, opens++ > 0 ? "reconnect" : "first", m.last_seq);
    },
    onEvent: (m) => {
      headSeq = Math.max(headSeq, m.seq);
      stats.event(m.audit_event.severity);
      table.addEvent(m.seq, m.audit_event);
    },
    onAlert: (m) => {
      stats.alert();
      alerts.add(m);
    },
    onReconnect: (m) => {
      connection = "reconnecting";
      connectionDetail = `attempt ${m.attempt}, ${m.reason}`;
      showStatus();
    },
    onMessage: (m) => {
      if (m.type === "audit.stream.gap") {
        table.addGap(m.from_seq, m.to_seq, m.reason);
        stats.gap(m.from_seq, m.to_seq);
      } else if (m.type === "audit.error") {
        const why = m.field && !m.message.startsWith(m.field) ? `${m.field}: ${m.message}` : m.message;
        if (m.code !== "invalid_filter" || !refuseFilter(why)) {
          showFilterStatus(why, true);
        }
      }
    },
    onError: (error) => {
      if (error instanceof FilterError) {
        // Filters from a link that the server refuses at connect: its field and rule; nothing streams until they are fixed.
        stream = null;
        connection = "disconnected";
        connectionDetail = "the server refused the filters";
        showStatus();
        const rules = error.errors.map((e) => `${e.field} ${e.rule}`).join("; ");
        showFilterStatus(`Not applied: ${rules || error.message}. Correct the filters and Apply.`, true);
        return;
      }

      if (error instanceof AuthError) {
        const expired = session ? typeof sessionFor(session.token) === "string" : false;
        signOut(expired ? expiredReason() : `The server refused the token (${error.status}): ${error.message}`);
        return;
      }

      connection = "disconnected";
      connectionDetail = error.message;
      showStatus();
    },
  });
}

/** On the first connection, notes the signed checkpoint; after each reconnect, proves the ledger extends it (RFC 9162 consistency). */
async function checkLedger(token: string, occasion: "first" | "reconnect" | "periodic", lastSeq: number): Promise<void> {
  ledgerChecking = true;
  try {
    await proveLedger(token, occasion, lastSeq);
  } finally {
    ledgerChecking = false;
  }
}

async function proveLedger(token: string, occasion: "first" | "reconnect" | "periodic", lastSeq: number): Promise<void> {
  const current = session;
  const reconnected = occasion !== "first";
  const after = occasion === "periodic" ? "while connected" : "after reconnecting";
  const status = $("ledger-status");
  const warn = (text: string) => {
    const warning = $("ledger-warning");
    warning.textContent = text;
    warning.hidden = false;
  };

  if (!baseline) {
    // An empty ledger has no checkpoint yet, and every later one extends it.
    const checkpoint = lastSeq === 0 ? EMPTY_TREE : await latestCheckpoint();
    if (session !== current) {
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

    baseline = checkpoint;
    status.textContent = `Ledger: signed tree size ${checkpoint.treeSize}`;
    status.title = "The latest checkpoint, signed by the pinned key; every minute and after each reconnect, a consistency proof shows the ledger still extends it.";
    return;
  }

  const before = baseline;
  const result = await checkConsistency(before, token);
  if (session !== current) {
    return;
  }

  if ("failure" in result) {
    warn(result.rewritten ? `Warning: the ledger this console follows was rewritten — ${result.failure}.` : `Could not check the ledger ${after}: ${result.failure}.`);
    status.textContent = result.rewritten ? "Ledger REWRITTEN" : "Ledger not checked";
    return;
  }

  baseline = result.checkpoint;
  status.textContent = `Ledger: consistent ${before.treeSize} → ${result.checkpoint.treeSize}`;
  status.title = `${occasion === "periodic" ? `At ${new Date().toLocaleTimeString()}` : "After reconnecting"}, a consistency proof showed the signed tree of ${result.checkpoint.treeSize} events extends the one of ${before.treeSize} seen before.`;
}

function showStatus(): void {
  const status = $("status");
  const paused = table.paused;
  const state = paused ? "paused" : connection;
  status.dataset.state = state;
  status.dataset.connection = connection;
  const label = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…", disconnected: "Disconnected" }[connection];
  status.textContent = paused ? `Paused — ${table.newCount.toLocaleString("en")} new` : label;
  status.title = connectionDetail ? `${label} (${connectionDetail})` : label;
  if (paused && connection !== "live") {
    status.textContent += ` · ${label}`;
  }

  $("pause").hidden = paused;
  $("jump").hidden = !paused;
}

function pause(): void {
  if (!table.paused) {
    table.pause();
  }
}

function jumpToLive(): void {
  table.resume();
  // Back at live the buffer is the newest rows again: older pages start over from its oldest row.
  historyFrom = null;
  historyDone = false;
  showHistory("");
}

$("pause").addEventListener("click", pause);
$("jump").addEventListener("click", jumpToLive);
// Scrolling away from the newest row pauses, so rows do not move under the reader.
$("rows").addEventListener("scroll", () => {
  const rows = $("rows");
  if (rows.scrollTop > 0) {
    pause();
  }

  // Scrolling down past the buffer reads older pages from the ledger.
  if (rows.scrollTop > 0 && rows.scrollTop + rows.clientHeight >= rows.scrollHeight - 3 * 28) {
    void loadOlderEvents();
  }
}, { passive: true });

document.addEventListener("keydown", (e) => {
  const target = e.target as HTMLElement;
  // Letters go to text fields; Space also activates a focused button, so it pauses only elsewhere.
  const typing = target.closest("input, textarea, select, [contenteditable]");
  const onButton = target.closest("button");
  if (e.key === "Escape") {
    closeDrawer();
  } else if ((e.key === "j" || e.key === "k") && !typing && session && !e.ctrlKey && !e.metaKey && !e.altKey) {
    // j older, k newer: moves the drawer (and the selection) along the table.
    const next = table.neighbour(drawerSeq, e.key === "j" ? 1 : -1);
    if (next !== null) {
      table.reveal(next);
      openDrawer(next);
    }
  } else if (e.key === "/" && !typing && session) {
    e.preventDefault();
    $("types-input").focus();
  } else if (e.key === " " && !typing && !onButton && session) {
    e.preventDefault();
    if (table.paused) {
      jumpToLive();
    } else {
      pause();
    }
  }
});

// ---- older pages: past and live in one view ----

function resetHistory(): void {
  historyFrom = null;
  historyDone = false;
  showHistory("");
}

function showHistory(text: string): void {
  $("history-status").textContent = text;
  $<HTMLButtonElement>("load-older").hidden = historyDone;
  $<HTMLButtonElement>("load-older").disabled = historyLoading;
}

/** Reads the page of matching events just older than the oldest row shown (or than the head, for an empty table). */
async function loadOlderEvents(): Promise<void> {
  if (!session || historyLoading || historyDone) {
    return;
  }

  const oldest = table.oldestSeq;
  const from = historyFrom ?? Number.POSITIVE_INFINITY;
  const before = oldest === null ? Math.min(headSeq + 1, from) : table.dropped > 0 ? oldest : Math.min(oldest, from);
  const current = session;
  const token = session.token;
  const query = location.search;
  historyLoading = true;
  showHistory("Loading older events…");
  try {
    const page = await loadOlder(before, query, token);
    if (session !== current || location.search !== query) {
      return;
    }

    if (!page.ok) {
      showHistory(`Older events could not be loaded: ${page.failure}`);
      return;
    }

    const added = table.addOlder(page.events);
    historyFrom = page.scannedFrom;
    historyDone = page.scannedFrom <= 1;
    const through = page.events[0]?.seq;
    showHistory(historyDone
      ? "The start of the ledger: nothing older matches these filters."
      : `${added.toLocaleString("en")} older events loaded${through ? ` (back to seq ${through})` : ""}; searched back to seq ${page.scannedFrom}.`);
  } catch (error) {
    showHistory(`Older events could not be loaded: ${(error as Error).message}`);
  } finally {
    historyLoading = false;
    $<HTMLButtonElement>("load-older").disabled = false;
  }
}

$("load-older").addEventListener("click", () => void loadOlderEvents());

/** Reads the events a gap skipped (seqs from..to matching the filters) from the ledger and shows them in place. */
async function fillGap(from: number, to: number): Promise<void> {
  if (!session) {
    return;
  }

  const current = session;
  const token = session.token;
  table.markGap(from, to, "Loading from the ledger…");
  const page = await loadRange(from, to, location.search, token).catch((e: Error) => ({ ok: false as const, failure: e.message }));
  if (session !== current) {
    return;
  }

  if (!page.ok) {
    table.markGap(from, to, `Could not load them: ${page.failure}`);
    return;
  }

  const added = table.addOlder(page.events);
  table.markGap(from, to, `${page.events.length.toLocaleString("en")} matching events loaded from the ledger${added < page.events.length ? ` (${page.events.length - added} were already shown)` : ""}`);
}

// ---- export: the server's streaming export of the current filters (export.ts) ----

const exportShown = (format: "ndjson" | "csv") => {
  if (session) void exportEvents(format, location.search, session.token, showFilterStatus);
};
$("export-ndjson").addEventListener("click", () => exportShown("ndjson"));
$("export-csv").addEventListener("click", () => exportShown("csv"));

// ---- the detail drawer ----

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

function openDrawer(seq: number): void {
  const event = table.event(seq);
  if (!event) {
    return;
  }

  drawerSeq = seq;
  drawerEvent = event;
  table.select(seq);
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

function closeDrawer(): void {
  drawerSeq = null;
  drawerEvent = null;
  table.select(null);
  $("drawer").hidden = true;
}

function showPinnedKey(): void {
  const pinned = pinnedKey();
  $("pinned-key").textContent = pinned
    ? `Pinned key ${pinned.key} (${pinned.pasted ? "pasted" : "trusted on first use"}, since ${new Date(pinned.pinnedAt).toLocaleString()})`
    : "No key pinned yet: Verify pins the server's key on first use, unless you pin one below.";
  $("forget-key").hidden = !pinned;
}

async function verifyShown(): Promise<void> {
  const seq = drawerSeq;
  const event: AuditEvent | null = drawerEvent;
  if (seq === null || !event || !session) {
    return;
  }

  const result = $("verify-result");
  delete result.dataset.result;
  const outcome = await verifyEvent(event, session.token, (step) => {
    if (drawerSeq === seq) result.textContent = step;
  });
  if (drawerSeq !== seq) {
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

$("verify").addEventListener("click", () => void verifyShown());
$("close-drawer").addEventListener("click", closeDrawer);
$("copy-json").addEventListener("click", () => void navigator.clipboard?.writeText($("json").textContent ?? ""));
$("pin-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const status = $("pin-status");
  void pinKey($<HTMLInputElement>("pin-input").value).then((pinned) => {
    status.classList.toggle("error", typeof pinned === "string");
    status.textContent = typeof pinned === "string" ? `Not pinned: ${pinned}.` : "Pinned.";
    if (typeof pinned !== "string") {
      $<HTMLInputElement>("pin-input").value = "";
      // A new key: the ledger baseline was checked with the old one.
      baseline = null;
    }

    showPinnedKey();
  });
});
$("forget-key").addEventListener("click", () => {
  forgetPinnedKey();
  showPinnedKey();
});

// ---- start ----

initTheme($("theme"));
wireFilters({
  stream: () => stream,
  restart: () => start(),
  changed: (filters) => {
    // The rows shown were chosen by the old filters: start again under the new ones; a time range reads its past at once.
    table.clear();
    resetHistory();
    if (filters.time_range) void loadOlderEvents();
  },
});
$("oidc-signin").addEventListener("click", () => {
  if (!oidc) return;
  $("signin-reason").textContent = "";
  void beginSignIn(oidc).then((why) => {
    $("signin-reason").textContent = why;
  });
});

// Back from the issuer: the code and state leave the address bar (and the filters come back) before anything reads it.
const callback = takeCallback();
showFilters();
const token = callback ? null : takeToken();
if (token) {
  signIn(token);
} else {
  $("signin").hidden = false;
  $("signin-reason").textContent = callback ? "Signing in…" : "";
}

void oidcSettings().then(async (settings) => {
  oidc = settings;
  if (session) return;
  if (!callback) {
    showSignIn();
    return;
  }

  if (!oidc) {
    showSignIn("This server offers no OpenID Connect sign-in (GET /console.json).");
    return;
  }

  const tokens = await completeSignIn(oidc, callback);
  if (typeof tokens === "string") {
    showSignIn(tokens);
  } else {
    signIn(tokens.accessToken, "oidc", tokens.refreshToken);
  }
});
