// OpenID Connect sign-in: the authorization code flow with PKCE (RFC 7636, S256) as a public client. The server says
// at GET /console.json which issuer and client id to use; the console reads the issuer's discovery document, sends the
// browser to its authorization endpoint, and exchanges the code (with the verifier only this tab knows) at its token
// endpoint. The tokens stay in memory (never in localStorage or sessionStorage); only the one-use verifier, state and
// nonce wait in sessionStorage across the redirect, and are removed when the browser comes back. Before the token
// expires it is renewed with the refresh token, or, without one, by a silent sign-in (prompt=none in a hidden frame).

export interface OidcSettings {
  issuer: string;
  client_id: string;
  scopes: string;
  audience?: string | null;
}

export interface OidcTokens {
  /** The access token: a JWT the server validates against the issuer's keys. */
  accessToken: string;
  refreshToken: string | null;
  idToken?: string;
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  code_challenge_methods_supported?: string[];
}

interface Pending {
  verifier: string;
  state: string;
  nonce: string;
  issuer: string;
  /** The query and fragment (filters) to restore after the redirect. */
  back: string;
  /** Where the issuer sends the answer (the console's address unless this is a silent re-sign-in). */
  redirect?: string;
}

/** What the browser brought back from the authorization endpoint (read and removed from the address bar at once). */
export interface Callback {
  code: string | null;
  error: string | null;
  state: string | null;
  iss: string | null;
  pending: Pending | null;
}

const PENDING_KEY = "auditstream.console.oidc";

/** The server's sign-in settings, or null when it offers token sign-in only (or cannot be asked). */
export async function oidcSettings(): Promise<OidcSettings | null> {
  try {
    const response = await fetch("/console.json", { cache: "no-store" });
    const body = response.ok ? ((await response.json()) as { oidc?: OidcSettings | null }) : null;
    return body?.oidc?.issuer && body.oidc.client_id ? body.oidc : null;
  } catch {
    return null;
  }
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomText(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** RFC 7636 §4.2: BASE64URL(SHA-256(ASCII(code_verifier))). */
export async function challengeFor(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
}

const redirectUri = () => `${location.origin}/`;
/** Where a silent re-sign-in's hidden frame comes back: a page with no script that only the console may frame. */
const silentRedirectUri = () => `${location.origin}/silent.html`;
/** How long a silent re-sign-in waits for the issuer's answer in its frame. */
const SILENT_MS = 10_000;

async function discover(issuer: string): Promise<Discovery> {
  const address = `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
  let response: Response;
  try {
    response = await fetch(address, { cache: "no-store" });
  } catch (error) {
    throw new Error(`the issuer's discovery document ${address} could not be read (${(error as Error).message})`);
  }

  if (!response.ok) {
    throw new Error(`the issuer's discovery document ${address} answered ${response.status}`);
  }

  const discovery = (await response.json()) as Discovery;
  // OIDC Discovery §4.3: the document's issuer must be the one asked for.
  if (discovery.issuer !== issuer) {
    throw new Error(`the discovery document names the issuer "${discovery.issuer}", not "${issuer}"`);
  }

  if (!discovery.authorization_endpoint || !discovery.token_endpoint) {
    throw new Error("the discovery document has no authorization_endpoint or token_endpoint");
  }

  if (discovery.code_challenge_methods_supported && !discovery.code_challenge_methods_supported.includes("S256")) {
    throw new Error("the issuer does not support PKCE with S256 (code_challenge_methods_supported)");
  }

  return discovery;
}

/** The authorization request for `pending` (state, nonce, the S256 challenge of its verifier); `prompt` as OIDC Core §3.1.2.1. */
async function authorizationUrl(discovery: Discovery, settings: OidcSettings, pending: Pending, prompt?: "none"): Promise<string> {
  const url = new URL(discovery.authorization_endpoint);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", settings.client_id);
  url.searchParams.set("redirect_uri", pending.redirect ?? redirectUri());
  url.searchParams.set("scope", settings.scopes);
  url.searchParams.set("state", pending.state);
  url.searchParams.set("nonce", pending.nonce);
  url.searchParams.set("code_challenge", await challengeFor(pending.verifier));
  url.searchParams.set("code_challenge_method", "S256");
  if (settings.audience) url.searchParams.set("audience", settings.audience);
  if (prompt) url.searchParams.set("prompt", prompt);
  return url.toString();
}

const newPending = (settings: OidcSettings, redirect?: string): Pending => ({
  verifier: randomText(),
  state: randomText(),
  nonce: randomText(),
  issuer: settings.issuer,
  back: `${location.search}${location.hash}`,
  ...(redirect ? { redirect } : {}),
});

/** Sends the browser to the issuer's authorization endpoint; resolves only with why it could not. */
export async function beginSignIn(settings: OidcSettings): Promise<string> {
  let discovery: Discovery;
  try {
    discovery = await discover(settings.issuer);
  } catch (error) {
    return `OpenID Connect sign-in is not available: ${(error as Error).message}.`;
  }

  const pending = newPending(settings);
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  location.assign(await authorizationUrl(discovery, settings, pending));
  return "";
}

/** Loads `url` in a hidden frame; resolves with the query of the console page it ends on (same origin), or why not. */
function frameAnswer(url: string, path: string): Promise<URLSearchParams | string> {
  return new Promise((resolveAnswer) => {
    const frame = document.createElement("iframe");
    frame.hidden = true;
    frame.title = "OpenID Connect renewal";
    const finish = (answer: URLSearchParams | string) => {
      clearTimeout(timer);
      frame.remove();
      resolveAnswer(answer);
    };
    const timer = setTimeout(() => finish(`the issuer did not send the frame back within ${SILENT_MS / 1000} s`), SILENT_MS);
    frame.addEventListener("load", () => {
      let here: Location;
      try {
        // Throws while the frame is at the issuer (another origin): its pages are not the console's to read.
        here = frame.contentWindow!.location;
        if (here.origin !== location.origin || here.pathname !== path) return;
      } catch {
        return;
      }

      finish(new URLSearchParams(here.search));
    });
    frame.src = url;
    document.body.append(frame);
  });
}

/**
 * Signs in again without a prompt while the user's session at the issuer lasts: the authorization code flow with PKCE
 * and `prompt=none` in a hidden frame that the issuer sends back to /silent.html with a code (or `login_required`), then
 * the same checks and exchange as an interactive sign-in. The verifier, state and nonce stay in memory.
 */
export async function silentSignIn(settings: OidcSettings): Promise<OidcTokens | string> {
  const failed = "OpenID Connect silent sign-in (prompt=none) failed";
  let url: string;
  const pending = newPending(settings, silentRedirectUri());
  try {
    url = await authorizationUrl(await discover(settings.issuer), settings, pending, "none");
  } catch (error) {
    return `${failed}: ${(error as Error).message}.`;
  }

  const answer = await frameAnswer(url, new URL(silentRedirectUri()).pathname);
  if (typeof answer === "string") {
    return `${failed}: ${answer}.`;
  }

  return completeSignIn(settings, callbackFrom(answer, pending));
}

/**
 * The authorization response in the address, if this page load is one: it is removed from the address bar at once (the
 * code is single-use, but has no business in history), and the filters the console had before the redirect come back.
 */
export function takeCallback(): Callback | null {
  const query = new URLSearchParams(location.search);
  if (!query.has("state") || (!query.has("code") && !query.has("error"))) {
    return null;
  }

  const stored = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  let pending: Pending | null = null;
  try {
    pending = stored ? (JSON.parse(stored) as Pending) : null;
  } catch {
    pending = null;
  }

  const callback = callbackFrom(query, pending);
  history.replaceState(history.state, "", `${location.pathname}${pending?.back ?? ""}`);
  return callback;
}

function callbackFrom(query: URLSearchParams, pending: Pending | null): Callback {
  const error = query.get("error");
  return {
    code: query.get("code"),
    error: error ? `${error}${query.get("error_description") ? `: ${query.get("error_description")}` : ""}` : null,
    state: query.get("state"),
    iss: query.get("iss"),
    pending,
  };
}

function claimsOf(jwt: string): Record<string, unknown> | null {
  try {
    const part = jwt.split(".")[1] ?? "";
    const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(base64.padEnd(base64.length + ((4 - (base64.length % 4)) % 4), "="));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)))) as Record<string, unknown>;
  } catch {
    return null;
  }
}

async function tokenRequest(settings: OidcSettings, form: Record<string, string>, what: string): Promise<OidcTokens | string> {
  let discovery: Discovery;
  let response: Response;
  try {
    discovery = await discover(settings.issuer);
    response = await fetch(discovery.token_endpoint, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams({ client_id: settings.client_id, ...form }),
      cache: "no-store",
    });
  } catch (error) {
    return `${what}: ${(error as Error).message}.`;
  }

  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    const reason = typeof body.error === "string" ? `${body.error}${typeof body.error_description === "string" ? `: ${body.error_description}` : ""}` : "no error given";
    return `${what}: the token endpoint answered ${response.status} (${reason}).`;
  }

  if (typeof body.access_token !== "string") {
    return `${what}: the token endpoint sent no access_token.`;
  }

  return { accessToken: body.access_token, refreshToken: typeof body.refresh_token === "string" ? body.refresh_token : null, ...(typeof body.id_token === "string" ? { idToken: body.id_token } : {}) };
}

/** Exchanges the code for tokens (with the verifier), after checking state, issuer (RFC 9207) and the ID token's nonce. */
export async function completeSignIn(settings: OidcSettings, callback: Callback): Promise<OidcTokens | string> {
  const failed = "OpenID Connect sign-in failed";
  const pending = callback.pending;
  if (!pending || pending.state !== callback.state || pending.issuer !== settings.issuer) {
    return `${failed}: the answer does not match a sign-in this tab started (state). Sign in again.`;
  }

  if (callback.iss !== null && callback.iss !== settings.issuer) {
    return `${failed}: the answer came from the issuer "${callback.iss}", not "${settings.issuer}".`;
  }

  if (callback.error || !callback.code) {
    return `${failed}: the issuer answered ${callback.error ?? "no code"}.`;
  }

  const tokens = await tokenRequest(settings, { grant_type: "authorization_code", code: callback.code, redirect_uri: pending.redirect ?? redirectUri(), code_verifier: pending.verifier }, failed);
  if (typeof tokens === "string") {
    return tokens;
  }

  if (tokens.idToken && claimsOf(tokens.idToken)?.nonce !== pending.nonce) {
    return `${failed}: the ID token's nonce is not the one this sign-in sent.`;
  }

  return { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken };
}

/** A new access token for the refresh token (the issuer may rotate the refresh token too). */
export async function refreshTokens(settings: OidcSettings, refreshToken: string): Promise<OidcTokens | string> {
  const tokens = await tokenRequest(settings, { grant_type: "refresh_token", refresh_token: refreshToken }, "The sign-in could not be renewed");
  return typeof tokens === "string" ? tokens : { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken ?? refreshToken };
}
