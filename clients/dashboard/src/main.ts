// The AuditStream web console: the live table over the TypeScript client's stream, its connection state, pause and
// the keyboard; the panels (sign-in, filters, drawer, older pages, ledger watch, alerts, stats, admin, export) are
// modules of their own, wired together here.
import { AuthError, connect, FilterError, type AuditStreamConnection } from "../../js/src/index.js";
import { AdminPanel } from "./admin.js";
import { AlertsPanel } from "./alerts.js";
import { $ } from "./dom.js";
import { Drawer } from "./drawer.js";
import { exportEvents } from "./export.js";
import { currentFilters, filterBy, refuseFilter, showFilterStatus, showFilters, wireFilters } from "./filters.js";
import { takeCallback } from "./oidc.js";
import { OlderPages } from "./older.js";
import type { Session } from "./session.js";
import { SignIn } from "./signin.js";
import { StatsPanel } from "./stats.js";
import { LiveTable } from "./table.js";
import { initTheme } from "./theme.js";
import { LedgerWatch } from "./watch.js";

let stream: AuditStreamConnection | null = null;
let connection: "connecting" | "live" | "reconnecting" | "disconnected" = "connecting";
let connectionDetail = "";
/** The highest seq this console knows is in the ledger (the connection's last_seq, then each event's). */
let headSeq = 0;

const table = new LiveTable({
  scroller: $("rows"),
  spacer: $("rows-spacer"),
  window: $("rows-window"),
  capNotice: $("cap-notice"),
  onSelect: (seq) => drawer.open(seq),
  onFilter: (field, value) => filterBy(field, value),
  onFillGap: (from, to) => void older.fillGap(from, to),
  onRender: () => showStatus(),
});

const stats = new StatsPanel($("stats-toggle"), $("stats"), $("totals"), $("rate-chart"));
const admin = new AdminPanel($("admin-toggle"), $("admin"), { ledger: $("admin-ledger"), clients: $("admin-clients"), sinks: $("admin-sinks") });
$("stats-toggle").addEventListener("click", () => stats.toggle());
$("admin-toggle").addEventListener("click", () => admin.toggle());

const alerts = new AlertsPanel($("alerts"), $("alerts-list"), $("alerts-title"), (seq) => drawer.open(seq));
const watch = new LedgerWatch();
const signIn = new SignIn({
  started: () => start(),
  stopped: () => {
    stream?.close();
    stream = null;
    watch.stop();
    drawer.close();
    clearViews();
  },
  renewed: (token) => admin.useToken(token),
});
const session = (): Session | null => signIn.session;
const drawer = new Drawer(table, () => session()?.token ?? null, () => watch.forgetBaseline());
const older = new OlderPages(table, session, () => headSeq);

function clearViews(): void {
  table.clear();
  alerts.clear();
  stats.clear();
  admin.clear();
  older.reset();
}

// ---- the stream ----

function start(): void {
  const current = session();
  if (!current) {
    return;
  }

  clearViews();
  headSeq = 0;
  connection = "connecting";
  connectionDetail = "";
  showStatus();
  watch.start(() => current.token, () => session() === current && connection === "live", () => headSeq);
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
      watch.opened(current.token, m.last_seq);
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
        signIn.refused(error.status, error.message);
        return;
      }

      connection = "disconnected";
      connectionDetail = error.message;
      showStatus();
    },
  });
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

// ---- pause, jump to live, the keyboard ----

function pause(): void {
  if (!table.paused) {
    table.pause();
  }
}

function jumpToLive(): void {
  table.resume();
  // Back at live the buffer is the newest rows again: older pages start over from its oldest row.
  older.reset();
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
    void older.load();
  }
}, { passive: true });

document.addEventListener("keydown", (e) => {
  const target = e.target as HTMLElement;
  // Letters go to text fields; Space also activates a focused button, so it pauses only elsewhere.
  const typing = target.closest("input, textarea, select, [contenteditable]");
  const onButton = target.closest("button");
  const signedIn = session() !== null;
  if (e.key === "Escape") {
    drawer.close();
  } else if ((e.key === "j" || e.key === "k") && !typing && signedIn && !e.ctrlKey && !e.metaKey && !e.altKey) {
    // j older, k newer: moves the drawer (and the selection) along the table.
    const next = table.neighbour(drawer.seq, e.key === "j" ? 1 : -1);
    if (next !== null) {
      table.reveal(next);
      drawer.open(next);
    }
  } else if (e.key === "/" && !typing && signedIn) {
    e.preventDefault();
    $("types-input").focus();
  } else if (e.key === " " && !typing && !onButton && signedIn) {
    e.preventDefault();
    if (table.paused) {
      jumpToLive();
    } else {
      pause();
    }
  }
});

// ---- export: the server's streaming export of the current filters (export.ts) ----

const exportShown = (format: "ndjson" | "csv") => {
  const current = session();
  if (current) void exportEvents(format, location.search, current.token, showFilterStatus);
};
$("export-ndjson").addEventListener("click", () => exportShown("ndjson"));
$("export-csv").addEventListener("click", () => exportShown("csv"));

// ---- start ----

initTheme($("theme"));
wireFilters({
  stream: () => stream,
  restart: () => start(),
  changed: (filters) => {
    // The rows shown were chosen by the old filters: start again under the new ones; a time range reads its past at once.
    table.clear();
    older.reset();
    if (filters.time_range) void older.load();
  },
});

// Back from the issuer: the code and state leave the address bar (and the filters come back) before anything reads it.
const callback = takeCallback();
showFilters();
signIn.boot(callback);
