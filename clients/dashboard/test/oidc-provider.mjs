// A small OpenID Connect provider on a loopback port, for the console's sign-in tests: discovery, an authorization
// endpoint that signs in one configured user at once and redirects back with a code (and starts a session, a cookie,
// which a `prompt=none` request needs: without it the answer is `login_required`), a token endpoint that checks the
// PKCE code_verifier against the code_challenge (RFC 7636 S256) and the redirect URI, refresh tokens, and a JWKS with
// an RSA key that signs RS256 access and ID tokens. It records what it was asked, for the tests to check.
import { createHash, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { createServer } from "node:http";

const base64url = (bytes) => Buffer.from(bytes).toString("base64url");

export class OidcProvider {
  /** Claims of the user every authorization signs in (role, tenant/tenants, sub). */
  user = { sub: "oidc-admin", role: "admin", tenants: "*" };
  /** Lifetime of the access tokens, seconds. */
  lifetime = 3600;
  /** Whether a token answer carries a refresh token (when the scopes ask for offline_access). */
  issueRefreshTokens = true;
  /** Every authorization request's parameters, and every token request's form, in order. */
  authorizations = [];
  tokenRequests = [];
  /** Every access token issued. */
  issued = [];

  #codes = new Map();
  /** The sessions the authorization endpoint started (the op_session cookie's values). */
  #sessions = new Set();
  #refreshTokens = new Map();
  #server;
  #key = generateKeyPairSync("rsa", { modulusLength: 2048 });
  #kid = base64url(randomBytes(8));

  constructor(clientId, redirectUris, audience = "auditstream") {
    this.clientId = clientId;
    /** The registered redirect URIs: an authorization request naming any other is refused. */
    this.redirectUris = redirectUris;
    this.audience = audience;
  }

  static async start({ clientId = "auditstream-console", redirectUris = [], audience } = {}) {
    const provider = new OidcProvider(clientId, redirectUris, audience);
    provider.#server = createServer((request, response) => provider.#handle(request, response));
    await new Promise((resolveListen) => provider.#server.listen(0, "127.0.0.1", resolveListen));
    provider.issuer = `http://127.0.0.1:${provider.#server.address().port}`;
    return provider;
  }

  close() {
    this.#server.closeAllConnections();
    return new Promise((resolveClose) => this.#server.close(resolveClose));
  }

  /** Signs every user out: a `prompt=none` request is then answered `login_required`. */
  endSessions() {
    this.#sessions.clear();
  }

  /** An RS256 JWT signed by this provider's key. */
  jwt(claims) {
    const header = base64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid: this.#kid }));
    const body = `${header}.${base64url(JSON.stringify(claims))}`;
    return `${body}.${base64url(sign("sha256", Buffer.from(body), this.#key.privateKey))}`;
  }

  /** An access token for the server (aud = AuditStream:Auth:Audience) with these claims, as the token endpoint issues them. */
  accessToken(claims = this.user, lifetime = this.lifetime) {
    const now = Math.floor(Date.now() / 1000);
    return this.jwt({ iss: this.issuer, aud: this.audience, iat: now, nbf: now, exp: now + lifetime, ...claims });
  }

  /** Runs an authorization request as a browser would (no redirect followed): the code, or the error, from the redirect. */
  async authorize(params) {
    const url = new URL("/authorize", this.issuer);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    const response = await fetch(url, { redirect: "manual" });
    return new URL(response.headers.get("location") ?? "http://invalid/").searchParams;
  }

  #handle(request, response) {
    const url = new URL(request.url, this.issuer);
    const json = (status, body) => {
      response.writeHead(status, { "content-type": "application/json", "access-control-allow-origin": "*", "cache-control": "no-store" });
      response.end(JSON.stringify(body));
    };

    if (request.method === "OPTIONS") {
      response.writeHead(204, { "access-control-allow-origin": "*", "access-control-allow-headers": "content-type, accept", "access-control-allow-methods": "GET, POST" });
      response.end();
    } else if (url.pathname === "/.well-known/openid-configuration") {
      json(200, {
        issuer: this.issuer,
        authorization_endpoint: `${this.issuer}/authorize`,
        token_endpoint: `${this.issuer}/token`,
        jwks_uri: `${this.issuer}/jwks`,
        response_types_supported: ["code"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
        code_challenge_methods_supported: ["S256"],
        grant_types_supported: ["authorization_code", "refresh_token"],
      });
    } else if (url.pathname === "/jwks") {
      json(200, { keys: [{ ...this.#key.publicKey.export({ format: "jwk" }), kid: this.#kid, alg: "RS256", use: "sig" }] });
    } else if (url.pathname === "/authorize") {
      this.#authorizeRequest(url.searchParams, request, response, json);
    } else if (url.pathname === "/token" && request.method === "POST") {
      let body = "";
      request.setEncoding("utf8");
      request.on("data", (chunk) => { body += chunk; });
      request.on("end", () => {
        const form = new URLSearchParams(body);
        this.tokenRequests.push(Object.fromEntries(form));
        const [status, answer] = this.#token(form);
        json(status, answer);
      });
    } else {
      json(404, { error: "not_found" });
    }
  }

  #authorizeRequest(params, request, response, json) {
    const cookie = /(?:^|;\s*)op_session=([^;]+)/.exec(request.headers.cookie ?? "")?.[1];
    this.authorizations.push({ ...Object.fromEntries(params), session: this.#sessions.has(cookie) });
    // An unknown client or redirect URI is never redirected to (RFC 6749 §4.1.2.1).
    const redirectUri = params.get("redirect_uri");
    if (params.get("client_id") !== this.clientId || !this.redirectUris.includes(redirectUri)) {
      json(400, { error: "invalid_request", error_description: "unknown client_id or redirect_uri" });
      return;
    }

    const back = new URL(redirectUri);
    back.searchParams.set("state", params.get("state") ?? "");
    back.searchParams.set("iss", this.issuer);
    const headers = { "cache-control": "no-store" };
    if (params.get("response_type") !== "code" || params.get("code_challenge_method") !== "S256" || !/^[A-Za-z0-9_-]{43}$/.test(params.get("code_challenge") ?? "")) {
      back.searchParams.set("error", "invalid_request");
      back.searchParams.set("error_description", "response_type code with an S256 code_challenge is required");
    } else if (params.get("prompt") === "none" && !this.#sessions.has(cookie)) {
      // OIDC Core §3.1.2.6: no session, and no prompt allowed.
      back.searchParams.set("error", "login_required");
      back.searchParams.set("error_description", "no session at the issuer");
    } else {
      if (!this.#sessions.has(cookie)) {
        const session = base64url(randomBytes(16));
        this.#sessions.add(session);
        headers["set-cookie"] = `op_session=${session}; Path=/; HttpOnly; SameSite=Lax`;
      }

      const code = base64url(randomBytes(24));
      this.#codes.set(code, { challenge: params.get("code_challenge"), nonce: params.get("nonce"), scope: params.get("scope") ?? "", redirectUri, used: false });
      back.searchParams.set("code", code);
    }

    response.writeHead(302, { ...headers, location: back.toString() });
    response.end();
  }

  #token(form) {
    if (form.get("client_id") !== this.clientId) {
      return [401, { error: "invalid_client", error_description: "unknown client_id" }];
    }

    if (form.get("grant_type") === "refresh_token") {
      const grant = this.#refreshTokens.get(form.get("refresh_token") ?? "");
      if (!grant) return [400, { error: "invalid_grant", error_description: "unknown refresh_token" }];
      this.#refreshTokens.delete(form.get("refresh_token"));
      return [200, this.#tokens(grant)];
    }

    if (form.get("grant_type") !== "authorization_code") {
      return [400, { error: "unsupported_grant_type" }];
    }

    const grant = this.#codes.get(form.get("code") ?? "");
    if (!grant || grant.used) {
      return [400, { error: "invalid_grant", error_description: "unknown or already used code" }];
    }

    // Single use, whatever the outcome: a code seen with a wrong verifier is burnt.
    grant.used = true;
    if (form.get("redirect_uri") !== grant.redirectUri) {
      return [400, { error: "invalid_grant", error_description: "redirect_uri differs from the authorization request's" }];
    }

    const challenge = createHash("sha256").update(form.get("code_verifier") ?? "").digest("base64url");
    if (!form.get("code_verifier") || challenge !== grant.challenge) {
      return [400, { error: "invalid_grant", error_description: "code_verifier does not match the code_challenge" }];
    }

    return [200, this.#tokens(grant, true)];
  }

  #tokens(grant, withIdToken = false) {
    const accessToken = this.accessToken();
    this.issued.push(accessToken);
    const answer = { access_token: accessToken, token_type: "Bearer", expires_in: this.lifetime, scope: grant.scope };
    if (withIdToken) {
      const now = Math.floor(Date.now() / 1000);
      answer.id_token = this.jwt({ iss: this.issuer, aud: this.clientId, sub: this.user.sub, nonce: grant.nonce, iat: now, exp: now + this.lifetime });
    }

    if (this.issueRefreshTokens && grant.scope.split(" ").includes("offline_access")) {
      answer.refresh_token = base64url(randomBytes(24));
      this.#refreshTokens.set(answer.refresh_token, grant);
    }

    return answer;
  }
}
