// OpenID Connect sign-in in the console, end to end: a loopback OIDC provider (oidc-provider.mjs), the real server
// validating its RS256 tokens through AuditStream:Auth:Authority (discovery + JWKS), and the Debian chromium doing the
// authorization code flow with PKCE that the server's GET /console.json describes. Waits are on conditions, never sleeps.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { AuditStreamServer, event } from "../../js/test/server.mjs";
import { launchChromium, openPage, publish } from "./browser.mjs";
import { OidcProvider } from "./oidc-provider.mjs";

const WAIT_MS = 20_000;
const CLIENT_ID = "auditstream-console";

describe("OIDC sign-in (authorization code + PKCE) in Chromium against the real server and a loopback provider", { timeout: 180_000 }, () => {
  let browser;
  let provider;
  let server;

  before(async () => {
    provider = await OidcProvider.start({ clientId: CLIENT_ID });
    [browser, server] = await Promise.all([
      launchChromium(),
      AuditStreamServer.start({
        env: {
          AuditStream__Auth__Authority: provider.issuer,
          AuditStream__Auth__AllowInsecureMetadata: "true",
          AuditStream__Auth__ClockSkew: "00:00:00",
          AuditStream__Console__Oidc__ClientId: CLIENT_ID,
          AuditStream__Console__Oidc__Scopes: "openid offline_access",
          AuditStream__Hub__RateLimitPerSecond: "0",
          AuditStream__Hub__RateLimitPerMinute: "0",
        },
      }),
    ]);
    provider.redirectUris = [`${server.url}/`, `${server.url}/silent.html`];
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
    await provider?.close();
  });

  const producer = () => provider.accessToken({ sub: "producer", role: "operator", tenant: "acme", scope: "audit:write" });

  const openConsole = (path = "/", setup) => openPage(browser, `${server.url}${path}`, { setup });

  const live = (page) => page.locator('#status[data-state="live"]').waitFor({ timeout: WAIT_MS });
  const signInWithOidc = async (page) => {
    await page.locator("#oidc-signin").waitFor({ timeout: WAIT_MS });
    await page.click("#oidc-signin");
  };
  /** The console, with its stream's WebSocket in the test's hands: `reconnectShowsNewEvents` closes it and waits for an event published after the reconnect. */
  const openWithSocket = async (path) => {
    let socket = null;
    const setup = (page) => page.routeWebSocket(/\/ws\/audit/, (ws) => {
      socket = ws;
      ws.connectToServer();
    });
    const opened = await openConsole(path, setup);
    const reconnectShowsNewEvents = async (n) => {
      await socket.close({ code: 4000, reason: "test" });
      await opened.page.locator('#status[data-connection="reconnecting"]').waitFor({ timeout: WAIT_MS });
      await live(opened.page);
      const [receipt] = await publish(server, [event(n, "auth.login", "info")], producer());
      await opened.page.locator(`#rows-window .row[data-seq="${receipt.seq}"]`).waitFor({ timeout: WAIT_MS });
    };
    return { ...opened, reconnectShowsNewEvents };
  };
  /** Waits until `renewed()` holds and the last token issued before has expired (polling the provider's record). */
  const renewedAndExpired = async (renewed) => {
    const first = provider.issued.at(-1);
    const expiry = JSON.parse(Buffer.from(first.split(".")[1], "base64url")).exp * 1000;
    const deadline = Date.now() + WAIT_MS;
    while (!renewed() || Date.now() <= expiry + 1000) {
      assert.ok(Date.now() < deadline, "the console renewed its token and the first one expired");
      await new Promise((resolveSoon) => setTimeout(resolveSoon, 100));
    }
  };
  const storedValues = (page) => page.evaluate(() => [localStorage, sessionStorage].flatMap((s) => Object.keys(s).map((k) => s.getItem(k))));

  test("GET /console.json names the issuer, client id and scopes; the page's CSP lets it connect to and frame the issuer", async () => {
    const response = await fetch(`${server.url}/console.json`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { oidc: { issuer: provider.issuer, client_id: CLIENT_ID, scopes: "openid offline_access", audience: null } });
    const page = await fetch(`${server.url}/`);
    assert.match(page.headers.get("content-security-policy"), new RegExp(`connect-src 'self' ${provider.issuer}; frame-src 'self' ${provider.issuer};`));
    // Where the silent re-sign-in's frame comes back: nothing to run, framed by the console's own pages only.
    const silent = await fetch(`${server.url}/silent.html?code=c&state=s`);
    assert.equal(silent.status, 200);
    assert.equal(silent.headers.get("content-security-policy"), "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'");
    assert.equal(silent.headers.get("x-frame-options"), "SAMEORIGIN");
    assert.doesNotMatch(await silent.text(), /<script/);
  });

  test("signs in with the code flow and PKCE S256, keeps the token in memory only, restores the filters and shows live events", async () => {
    const { page, problems, close } = await openConsole("/?severities=warning,error");
    try {
      const authorizations = provider.authorizations.length;
      await signInWithOidc(page);
      await live(page);

      // The authorization request carried an S256 challenge; the token request the verifier that hashes to it.
      const authorization = provider.authorizations[authorizations];
      assert.equal(authorization.code_challenge_method, "S256");
      assert.equal(authorization.response_type, "code");
      assert.equal(authorization.redirect_uri, `${server.url}/`);
      assert.match(authorization.scope, /offline_access/);
      const exchange = provider.tokenRequests.findLast((r) => r.grant_type === "authorization_code");
      assert.equal(createHash("sha256").update(exchange.code_verifier).digest("base64url"), authorization.code_challenge);
      assert.ok(exchange.code_verifier.length >= 43, "a verifier of at least 43 characters (RFC 7636 §4.1)");

      // The code and state are gone from the address bar, the filters of the link are back.
      const url = new URL(page.url());
      assert.equal(url.searchParams.get("code"), null);
      assert.equal(url.searchParams.get("state"), null);
      assert.equal(url.searchParams.get("severities"), "warning,error");
      assert.match(await page.locator("#identity").textContent(), /^admin · all tenants · expires /);

      // The access token is in no storage: the pending verifier was removed, nothing else was written.
      const token = provider.issued.at(-1);
      const stored = await storedValues(page);
      assert.ok(!stored.some((value) => value?.includes(token) || value?.includes(exchange.code_verifier)), `nothing stored holds the token or verifier: ${stored}`);

      // Live: the server accepts the RS256 token (issuer and JWKS from discovery) and streams what is published.
      const receipts = await publish(server, [event(1, "auth.failure", "error"), event(2, "data.read", "info"), event(3, "consent.granted", "warning")], producer());
      await page.locator(`#rows-window .row[data-seq="${receipts[2].seq}"]`).waitFor({ timeout: WAIT_MS });
      await page.locator(`#rows-window .row[data-seq="${receipts[0].seq}"]`).waitFor({ timeout: WAIT_MS });
      assert.equal(await page.locator(`#rows-window .row[data-seq="${receipts[1].seq}"]`).count(), 0, "the info event is filtered out");

      // A reload forgets the in-memory token: sign-in again (the provider's session makes it one click).
      await page.reload();
      await page.locator("#oidc-signin").waitFor({ timeout: WAIT_MS });
      assert.ok(await page.locator("#console").isHidden());
      await signInWithOidc(page);
      await live(page);
      assert.deepEqual(problems, [], "no script error and no CSP violation (discovery and the token endpoint are on the issuer's origin)");
    } finally {
      await close();
    }
  });

  test("the provider refuses a wrong code_verifier, and the console shows the refusal when its verifier is altered in transit", async () => {
    // Straight to the provider: a code bound to one challenge is refused with another verifier, and is burnt.
    const verifier = "a".repeat(43);
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    const params = { response_type: "code", client_id: CLIENT_ID, redirect_uri: `${server.url}/`, scope: "openid", state: "s", code_challenge: challenge, code_challenge_method: "S256" };
    const exchange = async (code, codeVerifier) => {
      const response = await fetch(`${provider.issuer}/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "authorization_code", client_id: CLIENT_ID, redirect_uri: `${server.url}/`, code, code_verifier: codeVerifier }),
      });
      return { status: response.status, body: await response.json() };
    };
    const refused = await exchange((await provider.authorize(params)).get("code"), "b".repeat(43));
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, "invalid_grant");
    assert.match(refused.body.error_description, /code_verifier/);
    const accepted = await exchange((await provider.authorize(params)).get("code"), verifier);
    assert.equal(accepted.status, 200);
    assert.equal(typeof accepted.body.access_token, "string");
    assert.equal((await provider.authorize({ ...params, code_challenge_method: "plain" })).get("error"), "invalid_request", "plain PKCE is refused");

    // In the browser: the console's verifier replaced on its way to the token endpoint.
    const setup = (page) => page.route(`${provider.issuer}/token`, async (route) => {
      const form = new URLSearchParams(route.request().postData() ?? "");
      form.set("code_verifier", "x".repeat(43));
      await route.continue({ postData: form.toString() });
    });
    const { page, problems, close } = await openConsole("/", setup);
    try {
      await signInWithOidc(page);
      await page.locator("#signin-reason", { hasText: "the token endpoint answered 400 (invalid_grant: code_verifier does not match the code_challenge)" }).waitFor({ timeout: WAIT_MS });
      assert.ok(await page.locator("#console").isHidden());
      assert.deepEqual(problems.filter((p) => !p.includes("400")), []);
    } finally {
      await close();
    }
  });

  test("renews the token before it expires (a reconnect after the first one's expiry sends the renewed one); without a refresh token and with the issuer's session ended (prompt=none refused), expiry asks to sign in again", async () => {
    provider.lifetime = 6;
    const { page, problems, close, reconnectShowsNewEvents } = await openWithSocket("/");
    try {
      const refreshes = () => provider.tokenRequests.filter((r) => r.grant_type === "refresh_token").length;
      const before = refreshes();
      await signInWithOidc(page);
      await live(page);
      await renewedAndExpired(() => refreshes() > before);

      // The first token has expired (the server allows no clock skew here): a reconnect only succeeds with the renewed one.
      await reconnectShowsNewEvents(7);
      assert.ok(await page.locator("#signin").isHidden(), "still signed in");

      // No refresh token from now on, and the session at the issuer ends after sign-in: the silent re-sign-in is
      // answered login_required, so the token serves until it expires, then sign-in again, saying why.
      provider.issueRefreshTokens = false;
      await page.click("#signout");
      const authorizations = provider.authorizations.length;
      await signInWithOidc(page);
      await live(page);
      provider.endSessions();
      await page.locator("#signin-reason", { hasText: "The token expired at" }).waitFor({ timeout: WAIT_MS });
      const silent = provider.authorizations.slice(authorizations).filter((a) => a.prompt === "none");
      assert.equal(silent.length, 1, "one silent re-sign-in was tried");
      assert.equal(silent[0].session, false, "after the issuer's session ended");
      assert.ok(await page.locator("#oidc-signin").isVisible(), "the sign-in offers OIDC again");
      assert.deepEqual(problems, []);
    } finally {
      provider.lifetime = 3600;
      provider.issueRefreshTokens = true;
      await close();
    }
  });

  test("without a refresh token, signs in again silently before expiry (prompt=none in a hidden frame, PKCE): the page stays, a reconnect after the first token's expiry sends the new one", async () => {
    provider.lifetime = 6;
    provider.issueRefreshTokens = false;
    const { page, problems, close, reconnectShowsNewEvents } = await openWithSocket("/?severities=info");
    try {
      const authorizations = provider.authorizations.length;
      const tokenRequests = provider.tokenRequests.length;
      await signInWithOidc(page);
      await live(page);
      // Set after the sign-in's redirects: a page that navigated (or reloaded) to renew would lose it.
      await page.evaluate(() => { window.__samePage = true; });
      const first = provider.issued.at(-1);
      const silent = () => provider.authorizations.slice(authorizations).filter((a) => a.prompt === "none");
      await renewedAndExpired(() => provider.issued.at(-1) !== first);

      // The silent request: prompt=none, back to /silent.html, with the issuer's session, its own state, nonce and an
      // S256 challenge that the exchange's verifier answers; no refresh token was ever asked for.
      const [request] = silent();
      assert.equal(silent().length, 1);
      assert.equal(request.redirect_uri, `${server.url}/silent.html`);
      assert.equal(request.session, true);
      assert.equal(request.code_challenge_method, "S256");
      const interactive = provider.authorizations.slice(authorizations).find((a) => a.prompt !== "none");
      assert.notEqual(request.state, interactive.state);
      assert.notEqual(request.nonce, interactive.nonce);
      const exchange = provider.tokenRequests.findLast((r) => r.grant_type === "authorization_code");
      assert.equal(exchange.redirect_uri, `${server.url}/silent.html`);
      assert.equal(createHash("sha256").update(exchange.code_verifier).digest("base64url"), request.code_challenge);
      assert.equal(provider.tokenRequests.slice(tokenRequests).filter((r) => r.grant_type === "refresh_token").length, 0);

      // The first token has expired (no clock skew): a reconnect only succeeds with the silently renewed one.
      await reconnectShowsNewEvents(8);
      assert.equal(await page.evaluate(() => window.__samePage), true, "renewed without leaving the page");
      assert.equal(new URL(page.url()).search, "?severities=info", "the address bar is untouched");
      assert.equal(await page.locator("iframe").count(), 0, "the hidden frame is gone");
      const stored = await storedValues(page);
      assert.ok(!stored.some((value) => value?.includes(exchange.code_verifier) || value?.includes(provider.issued.at(-1))), "the silent verifier and token are in no storage");
      assert.deepEqual(problems, [], "no script error and no CSP violation (frame-src allows the issuer)");
    } finally {
      provider.lifetime = 3600;
      provider.issueRefreshTokens = true;
      await close();
    }
  });
});
