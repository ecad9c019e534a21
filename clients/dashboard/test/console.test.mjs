// The web console as a user meets it: the real server (the built auditstream binary) serves the committed wwwroot at
// `/`, and the Debian chromium (playwright-core) signs in, watches events arrive, pauses, opens the drawer and verifies.
// Every wait is for a condition with a timeout, never a sleep.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { AuditStreamServer, event } from "../../js/test/server.mjs";

const repository = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const executablePath = process.env.AUDITSTREAM_CHROMIUM ?? "/usr/bin/chromium";
const WAIT_MS = 15_000;

// Screenshots for the README and docs/console.md: `npm run screenshots` writes them to docs/images; a plain run keeps
// them in a temporary directory so that tests leave the work tree as they found it.
const screenshots = process.env.AUDITSTREAM_SCREENSHOTS ? join(repository, "docs/images") : join(tmpdir(), "auditstream-console-screenshots");
mkdirSync(screenshots, { recursive: true });

/** POSTs events with a producer token; resolves with their receipts. */
async function publish(server, events, token = server.producerToken()) {
  const response = await fetch(`${server.url}/api/v1/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(events),
  });
  assert.equal(response.status, 201, await response.clone().text());
  return (await response.json()).events;
}

/** An HS256 token with exactly these claims (an expired one, for instance), signed like the server's development tokens. */
function tokenWith(server, claims) {
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const body = `${encode({ alg: "HS256", typ: "JWT" })}.${encode({ iss: "auditstream", aud: "auditstream", ...claims })}`;
  return `${body}.${createHmac("sha256", server.secret).update(body).digest("base64url")}`;
}

/** The Debian chromium, headless, quiet (no first-run, update, sync or QUIC traffic); playwright gives every launch a fresh temporary profile. */
function launchChromium() {
  if (!existsSync(executablePath)) {
    throw new Error(`Chromium is not installed at ${executablePath}: run "apt-get install chromium" (./test.sh does) or set AUDITSTREAM_CHROMIUM to a Chromium binary.`);
  }

  return chromium.launch({
    executablePath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

describe("the web console in Chromium, served by the real server at /", { timeout: 180_000 }, () => {
  let browser;
  let server;

  before(async () => {
    [browser, server] = await Promise.all([
      launchChromium(),
      // No per-client delivery limit here (the defaults, 100/s and 1,000/min, would turn the cap test's burst into a gap).
      AuditStreamServer.start({ env: { AuditStream__Hub__RateLimitPerSecond: "0", AuditStream__Hub__RateLimitPerMinute: "0" } }),
    ]);
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  /** A page in a fresh context (its own sessionStorage and localStorage) that records script errors and CSP violations. */
  async function openConsole(path = "/", { setup } = {}) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 760 }, acceptDownloads: true });
    const page = await context.newPage();
    const problems = [];
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => message.type() === "error" && problems.push(`console: ${message.text()}`));
    await page.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
    });
    await setup?.(page);
    await page.goto(`${server.url}${path}`);
    return { page, problems, close: () => context.close() };
  }

  const row = (page, seq) => page.locator(`#rows-window .row[data-seq="${seq}"]`);
  const shownSeqs = (page) => page.locator("#rows-window .row[data-seq]").evaluateAll((rows) => rows.map((r) => Number(r.dataset.seq)));
  /** Waits for Verify to finish and asserts it succeeded, showing what the drawer said otherwise. */
  const verified = async (page) => {
    const result = page.locator("#verify-result");
    try {
      await page.locator("#verify-result[data-result]").waitFor({ timeout: 30_000 });
    } finally {
      assert.equal(await result.getAttribute("data-result"), "ok", `the drawer says: ${await result.textContent()}`);
    }
  };
  const live = (page) => page.locator('#status[data-state="live"]').waitFor({ timeout: WAIT_MS });

  test("sign-in by #token= reads the fragment, removes it from the address bar, shows role, tenant and expiry, and signs out", async () => {
    const token = server.token({ role: "auditor", tenant: "acme" });
    const { page, problems, close } = await openConsole(`/#token=${token}`);
    try {
      await live(page);
      assert.equal(new URL(page.url()).hash, "", "the token is gone from the address bar");
      assert.ok(!page.url().includes(token));
      const identity = await page.locator("#identity").textContent();
      assert.match(identity, /^auditor · acme · expires /);
      assert.equal(await page.evaluate(() => sessionStorage.getItem("auditstream.console.token")), token);

      // A reload keeps the tab's session; signing out forgets it.
      await page.reload();
      await live(page);
      await page.click("#signout");
      await page.locator("#signin").waitFor({ timeout: WAIT_MS });
      assert.equal(await page.evaluate(() => sessionStorage.getItem("auditstream.console.token")), null);
      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });

  test("sign-in by pasting a token; an expired token leads back to sign-in with the reason", async () => {
    const { page, problems, close } = await openConsole();
    try {
      await page.locator("#signin").waitFor({ timeout: WAIT_MS });
      await page.screenshot({ path: join(screenshots, "console-signin.png") });
      const now = Math.floor(Date.now() / 1000);
      await page.fill("#token-input", tokenWith(server, { role: "admin", tenants: "*", sub: "old", iat: now - 7200, nbf: now - 7200, exp: now - 3600 }));
      await page.click("#signin button[type=submit]");
      await page.locator("#signin-reason", { hasText: "The token expired at" }).waitFor({ timeout: WAIT_MS });
      assert.ok(await page.locator("#console").isHidden());

      await page.fill("#token-input", server.token({ role: "security", tenant: "acme" }));
      await page.click("#signin button[type=submit]");
      await live(page);
      assert.match(await page.locator("#identity").textContent(), /^security · acme · /);

      // A token that expires while the console is open signs it out, saying so.
      await page.click("#signout");
      await page.fill("#token-input", tokenWith(server, { role: "admin", tenants: "*", sub: "brief", iat: now, nbf: now, exp: now + 3 }));
      await page.click("#signin button[type=submit]");
      await live(page);
      await page.locator("#signin-reason", { hasText: "The token expired at" }).waitFor({ timeout: WAIT_MS });
      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });

  test("live rows arrive as events are published, newest first, each seq once; a tenant sees only its tenant", async () => {
    const { page, problems, close } = await openConsole(`/#token=${server.token({ role: "auditor", tenant: "acme" })}`);
    try {
      await live(page);
      const globex = server.token({ role: "operator", tenant: "globex", scope: "audit:write" });
      const acme = await publish(server, [event(1, "auth.failure", "error"), event(2), event(3, "consent.granted", "warning")]);
      const other = await publish(server, [event(4), event(5)], globex);
      const marker = await publish(server, [event(6, "data.exported", "critical")]);
      await row(page, marker[0].seq).waitFor({ timeout: WAIT_MS });

      const expected = [...acme, ...marker].map((r) => r.seq).reverse();
      assert.deepEqual(await shownSeqs(page), expected, "acme's events only, newest first");
      assert.ok(other.every((r) => r.seq < marker[0].seq));
      const first = await row(page, acme[0].seq).locator(".cell").allTextContents();
      assert.deepEqual([first[0], first[2], first[3], first[4], first[5], first[6]], [String(acme[0].seq), "error", "auth.failure", "user-1 → record-1", "success", "acme"]);
      assert.equal(await page.locator('#rows-window .cell.tenant:text-is("globex")').count(), 0);
      await page.screenshot({ path: join(screenshots, "console-live.png") });
      assert.deepEqual(problems, [], "no script error and no CSP violation (the WebSocket is same-origin under connect-src 'self')");
    } finally {
      await close();
    }
  });

  test("pause (button or Space) holds new rows and counts them; Jump to live shows them", async () => {
    const { page, problems, close } = await openConsole(`/#token=${server.readerToken()}`);
    try {
      await live(page);
      const before = await publish(server, [event(1)]);
      await row(page, before[0].seq).waitFor({ timeout: WAIT_MS });

      await page.locator("#rows").focus();
      await page.keyboard.press("Space");
      await page.locator('#status[data-state="paused"]', { hasText: "Paused — 0 new" }).waitFor({ timeout: WAIT_MS });
      const held = await publish(server, [event(2), event(3), event(4), event(5), event(6)]);
      await page.locator("#status", { hasText: "Paused — 5 new" }).waitFor({ timeout: WAIT_MS });
      assert.equal(await row(page, held[0].seq).count(), 0, "held rows are not shown while paused");
      await page.screenshot({ path: join(screenshots, "console-paused.png") });

      await page.click("#jump");
      await row(page, held[4].seq).waitFor({ timeout: WAIT_MS });
      await live(page);
      assert.deepEqual((await shownSeqs(page)).slice(0, 6), [...held.map((r) => r.seq).reverse(), before[0].seq]);

      // The button pauses too, and so does scrolling away from the newest row.
      await page.click("#pause");
      await page.locator('#status[data-state="paused"]').waitFor({ timeout: WAIT_MS });
      await page.click("#jump");
      await live(page);
      const many = await publish(server, Array.from({ length: 60 }, (_, i) => event(i + 10)));
      await row(page, many[59].seq).waitFor({ timeout: WAIT_MS });
      await page.locator("#rows").evaluate((rows) => rows.scrollTo(0, 300));
      await page.locator('#status[data-state="paused"]').waitFor({ timeout: WAIT_MS });
      await page.click("#jump");
      await live(page);
      assert.equal(await page.locator("#rows").evaluate((rows) => rows.scrollTop), 0);
      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });

  test("Verify proves a real event is in the signed ledger, and reports failure when the proof is tampered with in transit", async () => {
    const { page, problems, close } = await openConsole(`/#token=${server.readerToken()}`);
    try {
      await live(page);
      const receipts = await publish(server, [event(1, "consent.granted"), event(2), event(3), event(4)]);
      const seq = receipts[1].seq;
      await row(page, receipts[3].seq).waitFor({ timeout: WAIT_MS });
      await row(page, seq).click();
      await page.locator("#drawer-title", { hasText: `Event seq ${seq}` }).waitFor({ timeout: WAIT_MS });
      assert.equal(await page.locator('#fields dd[data-field="hash"]').textContent(), receipts[1].hash);

      await page.click("#verify");
      const result = page.locator("#verify-result");
      await verified(page);
      const size = Number(/Verified \(tree size (\d+)\)/.exec(await result.textContent())[1]);
      assert.ok(size >= receipts[3].seq - 3 && size >= seq, `tree size ${size} covers seq ${seq}`);
      assert.match(await result.textContent(), /recomputed from its canonical form/);
      const pinned = await page.evaluate(() => JSON.parse(localStorage.getItem("auditstream.console.pinned-key")).key);
      assert.equal(pinned, (await (await fetch(`${server.url}/api/v1/ledger/public-key`)).text()).trim());
      await page.screenshot({ path: join(screenshots, "console-verified.png") });

      // The drawer stays on its seq while rows stream in.
      await publish(server, [event(5), event(6)]);
      assert.equal(await page.locator("#drawer").getAttribute("data-seq"), String(seq));

      // A proof altered on its way to the browser: one sibling hash changed.
      await page.route("**/api/v1/ledger/proofs/inclusion**", async (route) => {
        const response = await route.fetch();
        const proof = await response.json();
        assert.ok(proof.hashes.length > 0, "a proof in a tree of several events has sibling hashes");
        proof.hashes[0] = proof.hashes[0].replace(/^./, (c) => (c === "0" ? "1" : "0"));
        await route.fulfill({ response, json: proof });
      });
      await page.click("#verify");
      await page.locator('#verify-result[data-result="fail"]').waitFor({ timeout: WAIT_MS });
      assert.match(await result.textContent(), /Verification failed.*the inclusion proof for seq \d+ does not lead to the signed checkpoint's root at tree size \d+/);

      // A checkpoint altered in transit fails its signature against the pinned key.
      await page.unroute("**/api/v1/ledger/proofs/inclusion**");
      await page.route("**/api/v1/ledger/checkpoint", async (route) => {
        const response = await route.fetch();
        const note = await response.text();
        const lines = note.split("\n");
        lines[1] = String(Number(lines[1]) + 1);
        await route.fulfill({ response, body: lines.join("\n") });
      });
      await page.click("#verify");
      await page.locator("#verify-result", { hasText: "does not verify: the checkpoint was altered or forged" }).waitFor({ timeout: WAIT_MS });
      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });

  test("an auditor sees pii masked in the drawer, and Verify recomputes the hash from the envelope served beside it", async () => {
    const { page, problems, close } = await openConsole(`/#token=${server.token({ role: "auditor", tenant: "acme" })}`);
    try {
      await live(page);
      const [receipt] = await publish(server, [{ ...event(1, "consent.granted"), subject_id: "subject-1", pii: { email: "ada@example.com" } }]);
      await row(page, receipt.seq).click();
      await page.locator("#drawer-title", { hasText: `Event seq ${receipt.seq}` }).waitFor({ timeout: WAIT_MS });
      assert.equal(await page.locator('#fields dd[data-field="pii"]').textContent(), "[masked]");
      assert.ok(!(await page.locator("#drawer").textContent()).includes("ada@example.com"));

      await page.click("#verify");
      await verified(page);
      const text = await page.locator("#verify-result").textContent();
      assert.match(text, /Verified \(tree size \d+\)/);
      assert.doesNotMatch(text, /stored hash only/);
      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });
  test("an event altered on its way to the browser fails Verify: it does not hash to its hash field", async () => {
    let target = null;
    const setup = (page) => page.routeWebSocket(/\/ws\/audit/, (ws) => {
      const upstream = ws.connectToServer();
      upstream.onMessage((message) => {
        const frame = JSON.parse(message);
        if (frame.type === "audit.event.published" && frame.audit_event.actor_id === "mallory-target") {
          target = frame.seq;
          frame.audit_event.outcome = "failure";
        }

        ws.send(JSON.stringify(frame));
      });
      ws.onMessage((message) => upstream.send(message));
    });
    const { page, problems, close } = await openConsole(`/#token=${server.readerToken()}`, { setup });
    try {
      await live(page);
      const [receipt] = await publish(server, [{ ...event(1), actor_id: "mallory-target" }]);
      await row(page, receipt.seq).click();
      assert.equal(target, receipt.seq);
      assert.equal(await page.locator('#fields dd[data-field="outcome"]').textContent(), "failure", "the altered event is what the page shows");
      await page.click("#verify");
      await page.locator('#verify-result[data-result="fail"]').waitFor({ timeout: WAIT_MS });
      assert.match(await page.locator("#verify-result").textContent(), new RegExp(`seq ${receipt.seq} does not hash to its hash field`));
      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });

  test("a severity chip changes the stream without reconnecting, is kept in the URL, and a deep link restores the filters", async () => {
    const token = server.readerToken();
    const { page, problems, close } = await openConsole(`/#token=${token}`);
    const sockets = [];
    page.on("websocket", (socket) => sockets.push(socket.url()));
    try {
      await live(page);
      const opened = sockets.length;
      await page.click('[data-severity="error"]');
      await page.locator("#filter-status", { hasText: "Applied" }).waitFor({ timeout: WAIT_MS });
      assert.equal(new URL(page.url()).searchParams.get("severities"), "error");
      const receipts = await publish(server, [event(1, "data.accessed", "info"), event(2, "auth.failure", "error"), event(3, "data.accessed", "critical"), event(4, "auth.failure", "error")]);
      await row(page, receipts[3].seq).waitFor({ timeout: WAIT_MS });
      assert.deepEqual(await shownSeqs(page), [receipts[3].seq, receipts[1].seq]);
      assert.equal(sockets.length, opened, "update_filters on the open connection, no new WebSocket");

      // The deep link: severities and types from the query, applied from the first connection on.
      const link = `/?severities=critical&event_types=auth.*#token=${token}`;
      const second = await openConsole(link);
      try {
        await live(second.page);
        assert.equal(await second.page.locator('[data-severity="critical"]').getAttribute("aria-pressed"), "true");
        assert.equal(await second.page.locator('[data-severity="error"]').getAttribute("aria-pressed"), "false");
        assert.equal(await second.page.inputValue("#types-input"), "auth.*");
        const more = await publish(server, [event(5, "auth.failure", "error"), event(6, "data.accessed", "critical"), event(7, "auth.failure", "critical")]);
        await row(second.page, more[2].seq).waitFor({ timeout: WAIT_MS });
        assert.deepEqual(await shownSeqs(second.page), [more[2].seq]);
        assert.equal(new URL(second.page.url()).search, "?severities=critical&event_types=auth.*");
        assert.deepEqual(second.problems, []);
      } finally {
        await second.close();
      }

      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });

  test("after each reconnect the console proves the ledger extends the checkpoint it saw, and warns when it does not", async () => {
    let socket = null;
    const setup = (page) => page.routeWebSocket(/\/ws\/audit/, (ws) => {
      socket = ws;
      ws.connectToServer();
    });
    /** Resolves once the server has signed a checkpoint covering `seq` (it signs every 200 ms here). */
    const signedThrough = async (seq) => {
      const deadline = Date.now() + WAIT_MS;
      while (Number((await (await fetch(`${server.url}/api/v1/ledger/checkpoint`)).text()).split("\n")[1]) < seq) {
        assert.ok(Date.now() < deadline, `no checkpoint covering seq ${seq} within ${WAIT_MS} ms`);
        await new Promise((resolveSoon) => setTimeout(resolveSoon, 50));
      }
    };
    const reconnect = async (page) => {
      const before = socket;
      await before.close({ code: 4000, reason: "test" });
      await page.locator('#status[data-connection="reconnecting"]').waitFor({ timeout: WAIT_MS });
      await live(page);
    };
    const { page, problems, close } = await openConsole(`/#token=${server.readerToken()}`, { setup });
    try {
      await live(page);
      await page.locator("#ledger-status", { hasText: /^Ledger: signed tree size \d+$/ }).waitFor({ timeout: WAIT_MS });
      const seen = Number(/size (\d+)/.exec(await page.locator("#ledger-status").textContent())[1]);

      const first = await publish(server, [event(1), event(2), event(3)]);
      await signedThrough(first[2].seq);
      await reconnect(page);
      await page.locator("#ledger-status", { hasText: `Ledger: consistent ${seen} → ` }).waitFor({ timeout: WAIT_MS });
      const now = Number(/→ (\d+)/.exec(await page.locator("#ledger-status").textContent())[1]);
      assert.ok(now >= first[2].seq);

      // A consistency proof altered in transit: what the console would see if history had been rewritten.
      await page.route("**/api/v1/ledger/proofs/consistency**", async (route) => {
        const response = await route.fetch();
        const proof = await response.json();
        proof.hashes[0] = proof.hashes[0].replace(/^./, (c) => (c === "0" ? "1" : "0"));
        await route.fulfill({ response, json: proof });
      });
      const second = await publish(server, [event(4), event(5)]);
      await signedThrough(second[1].seq);
      await reconnect(page);
      await page.locator("#ledger-warning", { hasText: "Warning: the ledger this console follows was rewritten" }).waitFor({ timeout: WAIT_MS });
      assert.match(await page.locator("#ledger-warning").textContent(), new RegExp(`does not extend the one of ${now} seen before`));
      assert.equal(await page.locator("#ledger-status").textContent(), "Ledger REWRITTEN");
      await row(page, second[1].seq).waitFor({ timeout: WAIT_MS });
      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });

  test("the alerts panel shows the alerts the role receives, marks resolved ones, and an auditor has no panel", async () => {
    const admin = await openConsole(`/#token=${server.readerToken()}`);
    const auditor = await openConsole(`/#token=${server.token({ role: "auditor", tenant: "acme" })}`);
    try {
      await live(admin.page);
      await live(auditor.page);
      const failures = await publish(server, [event(1, "auth.failure", "error"), event(2, "auth.failure", "error")]);
      const alert = (type, summary) => ({
        type, severity: "critical", category: "security", actor_id: "alert-rules", action: "alert",
        metadata: { alert: { rule: "brute_force", summary, related_seqs: failures.map((r) => r.seq), group_key: "user-1" } },
      });
      const [raised] = await publish(server, [alert("alert.raised", "2 auth.failure for user-1 in 60 s")]);
      const item = admin.page.locator(`#alerts-list .alert[data-seq="${raised.seq}"]`);
      await item.waitFor({ timeout: WAIT_MS });
      assert.deepEqual(await item.locator("span").allTextContents(), ["security", "critical", "brute_force", "2 auth.failure for user-1 in 60 s"]);
      assert.equal(await admin.page.locator("#alerts-title").textContent(), "Alerts: 1 open");
      assert.equal(await row(admin.page, raised.seq).count(), 0, "an alert is not an event row");

      // A related seq opens that event in the drawer.
      await item.locator("button.related", { hasText: `#${failures[0].seq}` }).click();
      await admin.page.locator("#drawer-title", { hasText: `Event seq ${failures[0].seq}` }).waitFor({ timeout: WAIT_MS });
      await admin.page.keyboard.press("Escape");
      assert.ok(await admin.page.locator("#drawer").isHidden());

      const [resolved] = await publish(server, [alert("alert.resolved", "no auth.failure for user-1 in 5 min")]);
      await admin.page.locator(`#alerts-list .alert[data-seq="${resolved.seq}"]`).waitFor({ timeout: WAIT_MS });
      await item.locator(".alert-state", { hasText: `resolved (seq ${resolved.seq})` }).waitFor({ timeout: WAIT_MS });
      assert.equal(await admin.page.locator("#alerts-title").textContent(), "Alerts: 0 open");
      await admin.page.screenshot({ path: join(screenshots, "console-alerts.png") });

      // The auditor got the failures as rows but neither alert, and has no panel.
      await row(auditor.page, failures[1].seq).waitFor({ timeout: WAIT_MS });
      const marker = await publish(server, [event(3)]);
      await row(auditor.page, marker[0].seq).waitFor({ timeout: WAIT_MS });
      assert.ok(await auditor.page.locator("#alerts").isHidden());
      assert.equal(await auditor.page.locator("#alerts-list .alert").count(), 0);
      assert.equal(await row(auditor.page, raised.seq).count(), 0);
      assert.deepEqual([...admin.problems, ...auditor.problems], []);
    } finally {
      await admin.close();
      await auditor.close();
    }
  });

  test("j and k move the drawer along the rows, / focuses the filter, and a drawer value filters the stream", async () => {
    const { page, problems, close } = await openConsole(`/#token=${server.readerToken()}`);
    try {
      await live(page);
      const receipts = await publish(server, [event(1, "data.accessed", "info"), event(2, "auth.failure", "error"), event(3, "consent.granted", "warning")]);
      await row(page, receipts[2].seq).waitFor({ timeout: WAIT_MS });
      const title = page.locator("#drawer-title");
      await page.locator("body").press("j");
      await title.getByText(`Event seq ${receipts[2].seq}`).waitFor({ timeout: WAIT_MS });
      await page.keyboard.press("j");
      await title.getByText(`Event seq ${receipts[1].seq}`).waitFor({ timeout: WAIT_MS });
      await page.keyboard.press("j");
      await page.keyboard.press("k");
      await title.getByText(`Event seq ${receipts[1].seq}`).waitFor({ timeout: WAIT_MS });
      assert.equal(await page.locator("#rows-window .row.selected").getAttribute("data-seq"), String(receipts[1].seq));

      await page.locator('#fields dd[data-field="type"] button.filter-by').click();
      await page.locator("#filter-status", { hasText: "Applied" }).waitFor({ timeout: WAIT_MS });
      assert.equal(await page.inputValue("#types-input"), "auth.failure");
      assert.equal(new URL(page.url()).searchParams.get("event_types"), "auth.failure");
      const more = await publish(server, [event(4, "data.accessed", "info"), event(5, "auth.failure", "critical")]);
      await row(page, more[1].seq).waitFor({ timeout: WAIT_MS });
      assert.equal(await row(page, more[0].seq).count(), 0);

      await page.keyboard.press("Escape");
      await page.locator("body").press("/");
      assert.equal(await page.evaluate(() => document.activeElement?.id), "types-input");

      // A type the server refuses: its field and rule are shown, and the filters in force stay (and stay in the URL).
      await page.fill("#types-input", "Auth.Failure");
      await page.keyboard.press("Enter");
      await page.locator("#filter-status.error").waitFor({ timeout: WAIT_MS });
      assert.match(await page.locator("#filter-status").textContent(), /^Not applied: filters\.event_types\[0\] must be an event type like consent\.granted or a prefix like auth\.\*/);
      assert.equal(new URL(page.url()).searchParams.get("event_types"), "auth.failure");
      const after = await publish(server, [event(6, "data.accessed", "info"), event(7, "auth.failure", "info")]);
      await row(page, after[1].seq).waitFor({ timeout: WAIT_MS });
      assert.equal(await row(page, after[0].seq).count(), 0);
      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });

  test("export downloads the events matching the current filters, as NDJSON and CSV, masked as the role sees them", async () => {
    const { page, problems, close } = await openConsole(`/?event_types=consent.granted#token=${server.token({ role: "auditor", tenant: "acme" })}`);
    try {
      await live(page);
      const receipts = await publish(server, [{ ...event(1, "consent.granted"), subject_id: "s-1", pii: { email: "ada@example.com" } }, event(2)]);
      await row(page, receipts[0].seq).waitFor({ timeout: WAIT_MS });

      const download = async (button) => {
        const [file] = await Promise.all([page.waitForEvent("download", { timeout: WAIT_MS }), page.click(button)]).catch(async (e) => {
          throw new Error(`${e.message}; status: ${await page.locator("#filter-status").textContent()}; ${problems.join(" / ")}`);
        });
        assert.equal(file.failure ? await file.failure() : null, null);
        return { name: file.suggestedFilename(), text: await readFile(await file.path(), "utf8") };
      };
      const ndjson = await download("#export-ndjson");
      assert.equal(ndjson.name, "auditstream-export.ndjson");
      const events = ndjson.text.trim().split("\n").map((line) => JSON.parse(line));
      assert.ok(events.length >= 1);
      assert.ok(events.every((e) => e.type === "consent.granted" && e.tenant_id === "acme"), "only the filtered type, only the tenant");
      const exported = events.find((e) => e.seq === receipts[0].seq);
      assert.equal(exported.pii, "[masked]");
      assert.equal(exported.hash, receipts[0].hash);
      assert.ok(!events.some((e) => e.seq === receipts[1].seq));

      const csv = await download("#export-csv");
      assert.equal(csv.name, "auditstream-export.csv");
      assert.ok(csv.text.split("\n").some((line) => line.startsWith(`${receipts[0].seq},`)), csv.text.slice(0, 300));
      assert.ok(!csv.text.includes("ada@example.com"));
      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });

  test("the theme follows the OS until the Theme button picks one, which is remembered", async () => {
    const { page, problems, close } = await openConsole(`/#token=${server.readerToken()}`);
    try {
      await live(page);
      const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      await page.emulateMedia({ colorScheme: "dark" });
      assert.equal(await background(), "rgb(15, 19, 24)", "auto follows a dark OS");
      await page.emulateMedia({ colorScheme: "light" });
      assert.equal(await background(), "rgb(255, 255, 255)", "auto follows a light OS");

      await page.click("#theme");
      assert.equal(await page.locator("#theme").textContent(), "Theme: light");
      await page.emulateMedia({ colorScheme: "dark" });
      assert.equal(await background(), "rgb(255, 255, 255)", "light whatever the OS");
      await page.click("#theme");
      assert.equal(await page.locator("#theme").textContent(), "Theme: dark");
      await page.emulateMedia({ colorScheme: "light" });
      assert.equal(await background(), "rgb(15, 19, 24)", "dark whatever the OS");

      await page.reload();
      await live(page);
      assert.equal(await page.locator("#theme").textContent(), "Theme: dark");
      assert.equal(await background(), "rgb(15, 19, 24)");
      await page.click("#theme");
      assert.equal(await page.locator("#theme").textContent(), "Theme: auto");
      assert.equal(await background(), "rgb(255, 255, 255)");
      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });

  test("past the 5,000-row buffer the oldest rows leave the view and a notice says how many", async () => {
    const { page, problems, close } = await openConsole(`/#token=${server.readerToken()}`);
    try {
      await live(page);
      const receipts = [];
      for (let batch = 0; batch < 6; batch++) {
        receipts.push(...(await publish(server, Array.from({ length: batch === 5 ? 50 : 1000 }, (_, i) => event(batch * 1000 + i)))));
      }

      const last = receipts.at(-1).seq;
      await row(page, last).waitFor({ timeout: 30_000 });
      await page.locator("#cap-notice", { hasText: "50 older ones were dropped" }).waitFor({ timeout: WAIT_MS });
      assert.equal(await page.locator("#cap-notice").textContent(), "Showing the newest 5,000 events: 50 older ones were dropped from this view (they are still in the ledger).");
      // Only the visible rows are in the DOM.
      assert.ok((await page.locator("#rows-window .row").count()) < 100);
      assert.equal(await page.locator("#rows-spacer").evaluate((e) => e.style.height), `${5000 * 28}px`);
      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });

  test("across a server restart the console shows Reconnecting, resumes by seq, and loses and repeats no row", async () => {
    const { page, problems, close } = await openConsole(`/#token=${server.readerToken()}`);
    try {
      await live(page);
      const first = await publish(server, Array.from({ length: 5 }, (_, i) => event(i)));
      await row(page, first[4].seq).waitFor({ timeout: WAIT_MS });

      const restarted = server.restart();
      await page.locator('#status[data-connection="reconnecting"]').waitFor({ timeout: WAIT_MS });
      await restarted;
      await live(page);
      const second = await publish(server, Array.from({ length: 5 }, (_, i) => event(i + 5)));
      await row(page, second[4].seq).waitFor({ timeout: WAIT_MS });

      assert.deepEqual(await shownSeqs(page), [...first, ...second].map((r) => r.seq).reverse());
      await page.locator("#ledger-status", { hasText: /^Ledger: consistent \d+ → \d+$/ }).waitFor({ timeout: WAIT_MS });
      assert.ok(await page.locator("#ledger-warning").isHidden());
      // A refused connection attempt while the server was down is logged by Chromium; anything else is a problem.
      assert.deepEqual(problems.filter((p) => !p.includes("WebSocket connection") && !p.includes("Failed to load resource")), []);
    } finally {
      await close();
    }
  });
});

describe("the web console under a per-client rate limit", { timeout: 120_000 }, () => {
  let browser;
  let server;

  before(async () => {
    [browser, server] = await Promise.all([
      launchChromium(),
      AuditStreamServer.start({ env: { AuditStream__Hub__RateLimitPerSecond: "3", AuditStream__Hub__RateLimitPerMinute: "0" } }),
    ]);
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  test("audit.stream.gap shows inline as the exact skipped seq range and why", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 760 } });
    try {
      const page = await context.newPage();
      await page.goto(`${server.url}/#token=${server.readerToken()}`);
      await page.locator('#status[data-state="live"]').waitFor({ timeout: WAIT_MS });
      const receipts = await publish(server, Array.from({ length: 10 }, (_, i) => event(i)));
      const from = receipts[3].seq;
      const to = receipts[9].seq;
      const gap = page.locator(`#rows-window .row.gap[data-gap="${from}-${to}"]`);
      await gap.waitFor({ timeout: WAIT_MS });
      assert.equal(await gap.textContent(), `Gap: seqs ${from}–${to} not sent to this console (rate limited); they are in the ledger`);
      const shown = await page.locator("#rows-window .row[data-seq]").evaluateAll((rows) => rows.map((r) => Number(r.dataset.seq)));
      assert.deepEqual(shown, receipts.slice(0, 3).map((r) => r.seq).reverse());
      await page.screenshot({ path: join(screenshots, "console-gap.png") });
    } finally {
      await context.close();
    }
  });
});
