// The built client (dist/) in real Chromium: playwright-core drives the Debian chromium, which loads a page from a
// loopback static server (another origin, allowed by the server's AuditStream:Hub:AllowedOrigins) whose module script
// imports dist/index.js and follows the real server's stream with the browser's own WebSocket.
import assert from "node:assert/strict";
import { createHash, generateKeyPairSync } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { publish } from "../dist/index.js";
import { AuditStreamServer, event } from "./server.mjs";

const repository = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const executablePath = process.env.AUDITSTREAM_CHROMIUM ?? "/usr/bin/chromium";
const WAIT_MS = 15_000;

const testPage = `<!doctype html>
<meta charset="utf-8">
<title>AuditStream client in Chromium</title>
<script type="module">
  import * as client from "/clients/js/dist/index.js";
  window.auditstream = client;
</script>`;

/** The files a page may load, by URL path: the built bundle and the live-stream example, as laid out in the repository. */
function fileFor(path) {
  if (/^\/clients\/js\/dist\/[\w-]+\.js(?:\.map)?$/.test(path)) {
    return join(repository, path);
  }

  return path === "/examples/live-stream/" ? join(repository, "examples/live-stream/index.html") : null;
}

/** Serves the test page, the built bundle and the example page from loopback; resolves with the server and its origin. */
function serveBundle() {
  const server = createServer(async (request, response) => {
    const path = new URL(request.url, "http://localhost").pathname;
    const file = fileFor(path);
    if (path === "/") {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(testPage);
    } else if (file && existsSync(file)) {
      const type = file.endsWith(".html") ? "text/html; charset=utf-8" : file.endsWith(".map") ? "application/json" : "text/javascript";
      response.writeHead(200, { "content-type": type }).end(await readFile(file));
    } else {
      response.writeHead(404).end();
    }
  });
  return new Promise((resolveServe, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolveServe({ server, origin: `http://127.0.0.1:${server.address().port}` }));
  });
}

/** What one in-page connection delivered, as reported by the page; `waitFor` awaits a condition with a timeout. */
class PageStream {
  messages = [];
  #waiters = [];

  push(message) {
    this.messages.push(message);
    for (const waiter of [...this.#waiters]) {
      waiter.check();
    }
  }

  get seqs() {
    return this.messages.filter((m) => m.type === "audit.event.published").map((m) => m.seq);
  }

  waitFor(condition, what) {
    return new Promise((resolveWait, reject) => {
      const waiter = {
        check: () => {
          if (condition(this)) {
            this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
            clearTimeout(timer);
            resolveWait(this);
          }
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        const last = this.messages.slice(-5).map((m) => m.type + (m.seq ? ` ${m.seq}` : "")).join(", ");
        reject(new Error(`waited ${WAIT_MS} ms in Chromium for ${what}; ${this.messages.length} messages, last: ${last}`));
      }, WAIT_MS);
      this.#waiters.push(waiter);
      waiter.check();
    });
  }
}

describe("in Chromium, loading the built bundle", { timeout: 120_000 }, () => {
  let browser;
  let bundle;
  let server;
  let producer;

  before(async () => {
    if (!existsSync(executablePath)) {
      throw new Error(`Chromium is not installed at ${executablePath}: run "apt-get install chromium" (./test.sh does) or set AUDITSTREAM_CHROMIUM to a Chromium binary.`);
    }

    bundle = await serveBundle();
    [browser, server] = await Promise.all([
      chromium.launch({ executablePath, args: ["--headless", "--no-sandbox", "--disable-gpu"] }),
      AuditStreamServer.start({ env: { AuditStream__Hub__AllowedOrigins__0: bundle.origin } }),
    ]);
    producer = { url: server.url, token: server.producerToken() };
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
    bundle?.server.close();
  });

  /** A new page from the bundle server, with the client loaded; `open` connects in the page and returns its PageStream. */
  async function openPage() {
    const tab = await browser.newPage();
    const streams = new Map();
    const sockets = [];
    const errors = [];
    tab.on("pageerror", (error) => errors.push(error));
    tab.on("websocket", (socket) => sockets.push(socket.url()));
    await tab.exposeFunction("report", (id, message) => streams.get(id).push(message));
    await tab.goto(`${bundle.origin}/`);
    await tab.waitForFunction(() => typeof window.auditstream?.connect === "function", null, { timeout: WAIT_MS });

    let next = 0;
    const open = async (options) => {
      const id = next++;
      const stream = new PageStream();
      streams.set(id, stream);
      // Iterates the connection in the page and reports each message; onEvent seqs are kept in the page for comparison.
      await tab.evaluate(({ id, options }) => {
        const record = { callbackSeqs: [] };
        record.connection = window.auditstream.connect({ ...options, onEvent: (m) => record.callbackSeqs.push(m.seq) });
        (window.streams ??= {})[id] = record;
        (async () => {
          try {
            for await (const message of record.connection) {
              await window.report(id, message);
            }
          } catch (error) {
            await window.report(id, { type: "test.error", name: error.name, message: error.message, status: error.status, errors: error.errors });
          }
        })();
      }, { id, options });
      stream.id = id;
      return stream;
    };
    return { tab, open, sockets, errors };
  }

  test("receives the events the test publishes, replayed from sinceSeq and then live, through the iterator and onEvent", async () => {
    const { tab, open, errors } = await openPage();
    try {
      assert.equal(await tab.evaluate(() => typeof WebSocket), "function", "the browser's own WebSocket");
      const base = (await publish(producer, event(0))).seq;
      const replayed = await publish(producer, [event(1), event(2), event(3)]);
      const stream = await open({ url: server.url, token: server.readerToken(), sinceSeq: base });
      await stream.waitFor((s) => s.seqs.length === 3, "replayed events");
      const live = await publish(producer, [event(4), event(5)]);
      await stream.waitFor((s) => s.seqs.length === 5, "live events");

      const expected = [...replayed, ...live].map((r) => r.seq);
      assert.deepEqual(stream.seqs, expected);
      assert.equal(stream.messages[0].type, "audit.connection.established");
      assert.equal(stream.messages[0].role, "admin");
      assert.deepEqual(stream.messages.filter((m) => m.type === "audit.event.published").map((m) => m.audit_event.actor_id), ["user-1", "user-2", "user-3", "user-4", "user-5"]);
      assert.deepEqual(await tab.evaluate((id) => window.streams[id].callbackSeqs, stream.id), expected);
      assert.deepEqual(errors, []);
    } finally {
      await tab.close();
    }
  });

  test("filters: only matching event types arrive, and updateFilters from the page changes what arrives", async () => {
    const { tab, open, errors } = await openPage();
    try {
      const base = (await publish(producer, event(0))).seq;
      const stream = await open({ url: server.url, token: server.readerToken(), sinceSeq: base, filters: { event_types: ["consent.*"] } });
      const first = await publish(producer, [event(1, "consent.granted"), event(2), event(3, "auth.failure", "error"), event(4, "consent.revoked")]);
      await stream.waitFor((s) => s.seqs.includes(first[3].seq), "the two consent events");

      // Events arrive in seq order, so once the last matching one is here, a non-matching one before it would be too.
      const updated = await tab.evaluate((id) => window.streams[id].connection.updateFilters({ severities: ["error"] }), stream.id);
      assert.deepEqual(updated.severities, ["error"]);
      const second = await publish(producer, [event(5, "consent.granted"), event(6, "auth.failure", "error")]);
      await stream.waitFor((s) => s.seqs.includes(second[1].seq), "the error event after updateFilters");

      assert.deepEqual(stream.seqs, [first[0].seq, first[3].seq, second[1].seq]);
      assert.deepEqual(stream.messages.filter((m) => m.type === "audit.event.published").map((m) => m.audit_event.type), ["consent.granted", "consent.revoked", "auth.failure"]);
      assert.deepEqual(errors, []);
    } finally {
      await tab.close();
    }
  });

  test("the examples/live-stream page shows published events and applies the severities typed into it", async () => {
    const tab = await browser.newPage();
    try {
      const query = new URLSearchParams({ url: server.url, token: server.readerToken() });
      await tab.goto(`${bundle.origin}/examples/live-stream/?${query}`);
      await tab.locator("#status", { hasText: "live as admin" }).waitFor({ timeout: WAIT_MS });
      const rows = tab.locator("#rows tr");
      const first = await publish(producer, [event(1, "consent.granted"), event(2, "auth.failure", "error")]);
      await rows.nth(1).waitFor({ timeout: WAIT_MS });

      await tab.fill("#severities", "error, critical");
      await tab.click("#apply");
      await tab.locator("#status", { hasText: "filters: error, critical" }).waitFor({ timeout: WAIT_MS });
      const second = await publish(producer, [event(3, "consent.granted"), event(4, "auth.failure", "critical")]);
      await tab.locator("#rows tr:first-child td:first-child", { hasText: String(second[1].seq) }).waitFor({ timeout: WAIT_MS });

      // Newest first; the info event published after the filter change never showed.
      const table = await rows.evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
      assert.deepEqual(table.map((cells) => [Number(cells[0]), cells[2], cells[3], cells[4]]), [
        [second[1].seq, "critical", "auth.failure", "user-4"],
        [first[1].seq, "error", "auth.failure", "user-2"],
        [first[0].seq, "info", "consent.granted", "user-1"],
      ]);
    } finally {
      await tab.close();
    }
  });

  test("across origins (CORS): a bad token is an AuthError, bad filters a FilterError, and publish works from the page", async () => {
    const { tab, open, sockets, errors } = await openPage();
    try {
      const failed = (s) => s.messages.some((m) => m.type === "test.error");
      const badToken = await open({ url: server.url, token: "not-a-token", minDelayMs: 50, maxDelayMs: 100 });
      const badFilter = await open({ url: server.url, token: server.readerToken(), filters: { severities: ["loud"] }, minDelayMs: 50, maxDelayMs: 100 });
      await badToken.waitFor(failed, "the AuthError of a bad token");
      await badFilter.waitFor(failed, "the FilterError of bad filters");

      // The first refused WebSocket was diagnosed through GET /api/v1/stream: no reconnect was tried.
      assert.deepEqual(badToken.messages.map((m) => [m.type, m.name, m.status]), [["test.error", "AuthError", 401]]);
      assert.deepEqual(badFilter.messages.map((m) => [m.type, m.name, m.status]), [["test.error", "FilterError", 400]]);
      assert.deepEqual(badFilter.messages[0].errors.map((e) => [e.field, e.rule]), [["filters.severities[0]", "must be one of critical, error, warning, info"]]);
      assert.equal(sockets.length, 2, "one WebSocket each");

      // publish over fetch: the preflight (JSON body, Authorization) passes, and a refusal is readable too.
      const publishInPage = (token, events) =>
        tab.evaluate(async ({ url, token, events }) => {
          try {
            return { receipts: await window.auditstream.publish({ url, token }, events) };
          } catch (error) {
            return { error: { name: error.name, status: error.status, message: error.message } };
          }
        }, { url: server.url, token, events });
      const published = await publishInPage(server.producerToken(), [event(1, "consent.granted"), event(2)]);
      assert.equal(published.error, undefined, published.error?.message);
      assert.equal(published.receipts.length, 2);
      assert.equal(published.receipts[1].seq, published.receipts[0].seq + 1);
      const refused = await publishInPage(server.readerToken(), [event(3)]);
      assert.deepEqual([refused.error?.name, refused.error?.status], ["AuthError", 403]);

      // What the page published is in the ledger, as the page sent it.
      const stream = await open({ url: server.url, token: server.readerToken(), sinceSeq: published.receipts[0].seq - 1 });
      await stream.waitFor((s) => s.seqs.length >= 2, "the two events published from the page");
      assert.deepEqual(stream.messages.filter((m) => m.type === "audit.event.published").slice(0, 2).map((m) => m.audit_event.type), ["consent.granted", "data.accessed"]);
      assert.deepEqual(errors, []);
    } finally {
      await tab.close();
    }
  });

  test("verify: Chromium's WebCrypto checks the checkpoints, their consistency and every event's proof before delivery", async () => {
    const { tab, open, errors } = await openPage();
    try {
      const key = (await (await fetch(`${server.url}/api/v1/ledger/public-key`)).text()).trim();
      const base = (await publish(producer, event(0))).seq;
      const replayed = await publish(producer, [event(1), event(2), event(3)]);
      const stream = await open({ url: server.url, token: server.readerToken(), sinceSeq: base, verify: { key } });
      await stream.waitFor((s) => s.seqs.length === 3, "the replayed events, proved");
      const live = await publish(producer, [event(4), event(5)]);
      await stream.waitFor((s) => s.seqs.length === 5, "the live events, proved by a later checkpoint");

      assert.deepEqual(stream.seqs, [...replayed, ...live].map((r) => r.seq));
      const delivered = stream.messages.filter((m) => m.type === "audit.event.published");
      assert.ok(delivered.every((m) => m.verified?.content_verified && m.verified.tree_size >= m.seq), JSON.stringify(delivered.map((m) => m.verified)));
      assert.ok(stream.messages.filter((m) => m.type === "audit.ledger.checkpoint").length >= 2, "a second checkpoint, checked for consistency");

      // A key of the same name the server does not sign with: the first checkpoint is refused, nothing delivered.
      const name = key.slice(0, key.indexOf("+"));
      const typed = Buffer.concat([Buffer.of(0x01), generateKeyPairSync("ed25519").publicKey.export({ format: "der", type: "spki" }).subarray(-32)]);
      const id = createHash("sha256").update(Buffer.concat([Buffer.from(`${name}\n`), typed])).digest().subarray(0, 4).toString("hex");
      const other = `${name}+${id}+${typed.toString("base64")}`;
      const refused = await open({ url: server.url, token: server.readerToken(), sinceSeq: base, verify: { key: other } });
      await refused.waitFor((s) => s.messages.some((m) => m.type === "test.error"), "the StreamVerificationError");
      assert.deepEqual(refused.seqs, []);
      assert.equal(refused.messages.at(-1).name, "StreamVerificationError");
      assert.match(refused.messages.at(-1).message, /checkpoint: the checkpoint is not signed by the pinned key/);
      assert.deepEqual(errors, []);
    } finally {
      await tab.close();
    }
  });

  // Last in this group: it restarts the shared server.
  test("reconnects after a server restart and resumes by since_seq: every seq exactly once, in order", async () => {
    const { tab, open, sockets, errors } = await openPage();
    try {
      const base = (await publish(producer, event(0))).seq;
      const firstBatch = await publish(producer, Array.from({ length: 100 }, (_, i) => event(i)));
      const stream = await open({ url: server.url, token: server.readerToken(), sinceSeq: base, minDelayMs: 50, maxDelayMs: 500 });
      await stream.waitFor((s) => s.seqs.length >= 30, "the first 30 events");

      await server.restart();
      const afterRestart = await publish(producer, Array.from({ length: 50 }, (_, i) => event(100 + i)));
      await stream.waitFor((s) => s.seqs.length >= 150, "all 150 events after the restart");

      const expected = [...firstBatch, ...afterRestart].map((r) => r.seq);
      assert.deepEqual(expected, Array.from({ length: 150 }, (_, i) => base + 1 + i), "the test's own receipts are contiguous");
      assert.deepEqual(stream.seqs, expected, "no gap, no duplicate, in order");
      const reconnect = stream.messages.find((m) => m.type === "client.reconnecting");
      assert.ok(reconnect, "a client.reconnecting message");
      const delivered = stream.messages.slice(0, stream.messages.indexOf(reconnect)).filter((m) => m.type === "audit.event.published").map((m) => m.seq);
      assert.equal(reconnect.resume_after_seq, delivered.at(-1));
      // Every socket after the first asked the restarted server for the events after the last one delivered.
      assert.ok(sockets.length >= 2, `reconnected (${sockets.length} sockets)`);
      for (const url of sockets.slice(1)) {
        assert.equal(new URL(url).searchParams.get("since_seq"), String(reconnect.resume_after_seq), url);
      }
      assert.deepEqual(errors, []);
    } finally {
      await tab.close();
    }
  });
});
