// What the browser tests share: the Debian chromium, and publishing events to the real server.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";

const executablePath = process.env.AUDITSTREAM_CHROMIUM ?? "/usr/bin/chromium";

/** POSTs events with a producer token; resolves with their receipts. */
export async function publish(server, events, token = server.producerToken()) {
  const response = await fetch(`${server.url}/api/v1/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(events),
  });
  assert.equal(response.status, 201, await response.clone().text());
  return (await response.json()).events;
}

/** The Debian chromium, headless, quiet (no first-run, update, sync or QUIC traffic); playwright gives every launch a fresh temporary profile. */
export function launchChromium() {
  if (!existsSync(executablePath)) {
    throw new Error(`Chromium is not installed at ${executablePath}: run "apt-get install chromium" (./test.sh does) or set AUDITSTREAM_CHROMIUM to a Chromium binary.`);
  }

  return chromium.launch({
    executablePath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** A page at `url` in a fresh context (its own sessionStorage and localStorage) that records script errors and CSP violations. */
export async function openPage(browser, url, { setup, viewport = { width: 1280, height: 760 } } = {}) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => message.type() === "error" && problems.push(`console: ${message.text()}`));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  await setup?.(page);
  await page.goto(url);
  return { page, problems, close: () => context.close() };
}
