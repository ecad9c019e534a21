// Sign-in: a token pasted or passed as /#token=<JWT> (the fragment never reaches a server and is removed from the
// address bar at once), kept in sessionStorage for this tab only. Its claims are decoded for display; the server is
// what checks the signature.

const STORAGE_KEY = "auditstream.console.token";

export interface Session {
  token: string;
  role: string;
  tenant: string;
  subject: string | null;
  /** Expiry in ms since the epoch, or null when the token has no `exp`. */
  expiresAt: number | null;
}

function decodePayload(token: string): Record<string, unknown> | null {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts[1]) {
    return null;
  }

  try {
    const base64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(base64.padEnd(base64.length + ((4 - (base64.length % 4)) % 4), "="));
    const json = new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
    const payload = JSON.parse(json) as unknown;
    return payload && typeof payload === "object" ? (payload as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A session for `token`, or why it cannot be one (not a JWT, expired). */
export function sessionFor(token: string, now = Date.now()): Session | string {
  const trimmed = token.trim();
  const claims = decodePayload(trimmed);
  if (!claims) {
    return "That is not a JWT (three base64url parts separated by dots).";
  }

  const expiresAt = typeof claims.exp === "number" ? claims.exp * 1000 : null;
  if (expiresAt !== null && expiresAt <= now) {
    return `The token expired at ${new Date(expiresAt).toLocaleString()}. Sign in with a new one.`;
  }

  const role = typeof claims.role === "string" ? claims.role : "(no role)";
  const tenant = claims.tenants === "*" ? "all tenants" : typeof claims.tenant === "string" ? claims.tenant : "(no tenant)";
  return { token: trimmed, role, tenant, subject: typeof claims.sub === "string" ? claims.sub : null, expiresAt };
}

/** Reads `#token=` from the address (and removes it), else the token kept for this tab. */
export function takeToken(): string | null {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromFragment = fragment.get("token");
  if (fromFragment) {
    fragment.delete("token");
    const rest = fragment.toString();
    history.replaceState(history.state, "", `${location.pathname}${location.search}${rest ? `#${rest}` : ""}`);
    return fromFragment;
  }

  return sessionStorage.getItem(STORAGE_KEY);
}

export function keep(session: Session): void {
  sessionStorage.setItem(STORAGE_KEY, session.token);
}

export function forget(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}
