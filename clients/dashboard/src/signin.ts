// Who is signed in, and for how long: sign-in by a pasted token or /#token= (session.ts), or by OpenID Connect
// (oidc.ts); the identity shown in the header; renewal of an OIDC token before it expires; sign-out, and back to
// sign-in with the reason when the token expires or the server refuses it.
import { $ } from "./dom.js";
import { pinKey } from "./ledger.js";
import { beginSignIn, completeSignIn, oidcSettings, refreshTokens, silentSignIn, type Callback, type OidcSettings, type OidcTokens } from "./oidc.js";
import { forget, keep, sessionFor, takeToken, type Session } from "./session.js";

export interface SignInHost {
  /** Signed in: start the console with this session. */
  started(session: Session): void;
  /** Signed out: close the stream and forget what it showed. */
  stopped(): void;
  /** The session's token was renewed (the stream asks for it at its next reconnect; API calls use it from now). */
  renewed(token: string): void;
}

export class SignIn {
  #session: Session | null = null;
  #expiryTimer: ReturnType<typeof setTimeout> | null = null;
  /** OIDC sign-in as the server offers it (GET /console.json), or null for token sign-in only. */
  #oidc: OidcSettings | null = null;
  /** The OIDC refresh token of this sign-in, in memory only; null for a pasted token or an issuer that sent none. */
  #refreshToken: string | null = null;
  /** Whether this sign-in is OIDC's (renewed before it expires) or a pasted token's (which serves until it expires). */
  #viaOidc = false;

  constructor(private readonly host: SignInHost) {
    $("signin-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const key = $<HTMLInputElement>("signin-key").value.trim();
      if (!key) {
        this.#signIn($<HTMLTextAreaElement>("token-input").value);
        return;
      }

      // Pinned before the stream connects, so that even the first checkpoint is checked against it.
      void pinKey(key).then((pinned) => {
        if (typeof pinned === "string") {
          $("signin-reason").textContent = `The verifier key cannot be pinned: ${pinned}.`;
          return;
        }

        $<HTMLInputElement>("signin-key").value = "";
        this.#signIn($<HTMLTextAreaElement>("token-input").value);
      });
    });
    $("signout").addEventListener("click", () => this.signOut());
    $("oidc-signin").addEventListener("click", () => {
      if (!this.#oidc) return;
      $("signin-reason").textContent = "";
      void beginSignIn(this.#oidc).then((why) => {
        $("signin-reason").textContent = why;
      });
    });
  }

  /** The signed-in session, or null. */
  get session(): Session | null {
    return this.#session;
  }

  /**
   * Signs in as this page load allows: with the token of `/#token=` or of this tab, or (`callback`, back from the
   * issuer) by completing the OIDC sign-in; otherwise shows sign-in.
   */
  boot(callback: Callback | null): void {
    const token = callback ? null : takeToken();
    if (token) {
      this.#signIn(token);
    } else {
      $("signin").hidden = false;
      $("signin-reason").textContent = callback ? "Signing in…" : "";
    }

    void oidcSettings().then(async (settings) => {
      this.#oidc = settings;
      if (this.#session) return;
      if (!callback) {
        this.#showSignIn();
        return;
      }

      if (!settings) {
        this.#showSignIn("This server offers no OpenID Connect sign-in (GET /console.json).");
        return;
      }

      const tokens = await completeSignIn(settings, callback);
      if (typeof tokens === "string") {
        this.#showSignIn(tokens);
      } else {
        this.#signIn(tokens.accessToken, "oidc", tokens.refreshToken);
      }
    });
  }

  /** Why the session ended: its expiry if it has expired, else "Signed out.". */
  expiredReason(): string {
    const check = this.#session ? sessionFor(this.#session.token) : "Signed out.";
    return typeof check === "string" ? check : "Signed out.";
  }

  /** The server refused the token (401/403): back to sign-in with its expiry, or with the server's reason. */
  refused(status: number, message: string): void {
    const expired = this.#session ? typeof sessionFor(this.#session.token) === "string" : false;
    this.signOut(expired ? this.expiredReason() : `The server refused the token (${status}): ${message}`);
  }

  signOut(reason = ""): void {
    this.host.stopped();
    if (this.#expiryTimer) {
      clearTimeout(this.#expiryTimer);
      this.#expiryTimer = null;
    }

    this.#session = null;
    this.#refreshToken = null;
    this.#viaOidc = false;
    forget();
    this.#showSignIn(reason);
  }

  #showSignIn(reason = ""): void {
    $("oidc").hidden = !this.#oidc;
    if (this.#oidc) $("oidc-issuer").textContent = `at ${this.#oidc.issuer}`;
    $("console").hidden = true;
    $("signin").hidden = false;
    $("signin-reason").textContent = reason;
    $<HTMLTextAreaElement>("token-input").value = "";
  }

  /** Signs in with a pasted token (kept for this tab) or, `via` OIDC, with an access token kept in memory only. */
  #signIn(token: string, via: "token" | "oidc" = "token", refresh: string | null = null): void {
    const result = sessionFor(token);
    if (typeof result === "string") {
      forget();
      this.#showSignIn(result);
      return;
    }

    this.#session = result;
    this.#refreshToken = refresh;
    this.#viaOidc = via === "oidc";
    if (via === "token") {
      keep(result);
    } else {
      forget();
    }

    $("signin").hidden = true;
    $("console").hidden = false;
    this.#showIdentity(result);
    if (result.expiresAt !== null) {
      if (this.#viaOidc) this.#armRenewal(result.expiresAt);
      else this.#armExpiry(result.expiresAt);
    }

    this.host.started(result);
  }

  #showIdentity(current: Session): void {
    const expires = current.expiresAt === null ? "no expiry" : `expires ${new Date(current.expiresAt).toLocaleString()}`;
    $("identity").textContent = `${current.role} · ${current.tenant} · ${expires}`;
    $("identity").title = `${current.subject ? `subject ${current.subject}` : ""}${this.#viaOidc ? " (OpenID Connect; renewed before it expires)" : ""}`;
  }

  /**
   * OIDC: renews the access token a quarter of its life (at most a minute) before it expires, with the refresh token or,
   * without one (or if it is refused), by a silent sign-in (prompt=none); if neither renews it, sign-in again at expiry.
   */
  #armRenewal(expiresAt: number): void {
    const left = Math.max(0, expiresAt - Date.now());
    this.#expiryTimer = setTimeout(() => void this.#renew(expiresAt), Math.min(left - Math.min(60_000, left / 4), 2_147_483_647));
  }

  async #renew(expiresAt: number): Promise<void> {
    const current = this.#session;
    const oidc = this.#oidc;
    if (!current || !oidc) return;
    let tokens: OidcTokens | string = this.#refreshToken ? await refreshTokens(oidc, this.#refreshToken) : "No refresh token.";
    if (this.#session !== current) return;
    if (typeof tokens === "string") {
      // While the user's session at the issuer lasts, it signs them in again without a prompt, in a hidden frame.
      const refused = tokens;
      const silent = await silentSignIn(oidc);
      if (this.#session !== current) return;
      tokens = typeof silent === "string" ? `${refused} ${silent}` : silent;
    }

    const renewed = typeof tokens === "string" ? tokens : sessionFor(tokens.accessToken);
    if (typeof renewed === "string" || typeof tokens === "string") {
      // Not renewed: the token serves until it expires, then sign-in again with why.
      this.#refreshToken = null;
      $("identity").title = `Not renewed: ${typeof tokens === "string" ? tokens : renewed}`;
      this.#armExpiry(expiresAt);
      return;
    }

    // The same sign-in with a fresh token: the stream asks for it at its next reconnect, API calls at their next call.
    current.token = renewed.token;
    current.expiresAt = renewed.expiresAt;
    this.#refreshToken = tokens.refreshToken;
    this.host.renewed(renewed.token);
    this.#showIdentity(current);
    if (renewed.expiresAt !== null) this.#armRenewal(renewed.expiresAt);
  }

  #armExpiry(expiresAt: number): void {
    // setTimeout holds at most 2^31-1 ms (24.8 days); a longer-lived token is looked at again then.
    this.#expiryTimer = setTimeout(() => {
      if (this.#session && typeof sessionFor(this.#session.token) === "string") {
        this.signOut(this.expiredReason());
      } else if (this.#session) {
        this.#armExpiry(expiresAt);
      }
    }, Math.min(Math.max(0, expiresAt - Date.now()) + 50, 2_147_483_647));
  }
}
