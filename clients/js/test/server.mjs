// Starts the real AuditStream server (the built auditstream binary) on a loopback port, and mints tokens for it.
import { spawn } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dll = process.env.AUDITSTREAM_DLL ?? resolve(here, "../../../src/AuditStream.Server/bin/Release/net10.0/auditstream.dll");

function freePort() {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolvePort(port));
    });
  });
}

export class AuditStreamServer {
  #process = null;
  #env;

  constructor(port, dataDir, secret, env) {
    this.port = port;
    this.dataDir = dataDir;
    this.secret = secret;
    this.url = `http://127.0.0.1:${port}`;
    this.#env = env;
  }

  /** Starts a server; `env` adds configuration (e.g. `AuditStream__Hub__AllowedOrigins__0`), kept across restarts. */
  static async start({ env = {} } = {}) {
    const server = new AuditStreamServer(await freePort(), mkdtempSync(join(tmpdir(), "auditstream-js-")), randomBytes(32), env);
    await server.startAgain();
    return server;
  }

  /** Starts the process and resolves when it logs that it listens. */
  startAgain() {
    const child = spawn("dotnet", [dll, "serve", "--urls", this.url, "--data", this.dataDir], {
      env: {
        ...process.env,
        AuditStream__Auth__SigningKey: this.secret.toString("base64"),
        AuditStream__Hub__RecordActivity: "false",
        AuditStream__Ledger__CheckpointInterval: "00:00:00.200",
        DOTNET_NOLOGO: "1",
        ...this.#env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#process = child;
    return new Promise((resolveStart, reject) => {
      let output = "";
      const timer = setTimeout(() => reject(new Error(`the server did not start within 60 s:\n${output}`)), 60_000);
      const onData = (chunk) => {
        output += chunk;
        if (output.includes("AuditStream listening on")) {
          clearTimeout(timer);
          resolveStart();
        }
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the server exited with ${code}:\n${output}`));
      });
    });
  }

  /** Stops gracefully (SIGTERM: stream clients get 1001) and waits for the process to exit. */
  async stop() {
    const child = this.#process;
    if (!child || child.exitCode !== null) {
      return;
    }

    this.#process = null;
    const exited = new Promise((resolveExit) => child.once("exit", resolveExit));
    child.kill("SIGTERM");
    await exited;
  }

  /** Stops and starts again on the same data directory; `env` adds configuration from now on. */
  async restart(env = {}) {
    await this.stop();
    this.#env = { ...this.#env, ...env };
    await this.startAgain();
  }

  async dispose() {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** An HS256 token signed with the server's development secret, like `auditstream token issue`. */
  token({ role = "admin", tenant, tenants, scope } = {}) {
    const now = Math.floor(Date.now() / 1000);
    const claims = { role, sub: `js-${role}`, iss: "auditstream", aud: "auditstream", iat: now, nbf: now, exp: now + 3600 };
    if (tenants) claims.tenants = tenants;
    if (tenant) claims.tenant = tenant;
    if (scope) claims.scope = scope;
    const encode = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const body = `${encode({ alg: "HS256", typ: "JWT" })}.${encode(claims)}`;
    return `${body}.${createHmac("sha256", this.secret).update(body).digest("base64url")}`;
  }

  producerToken() {
    return this.token({ role: "operator", tenant: "acme", scope: "audit:write" });
  }

  readerToken() {
    return this.token({ role: "admin", tenants: "*" });
  }
}

/**
 * Runs `auditstream witness` for the log `logKey` on a free loopback port in `dir`; resolves once it listens with its
 * address, its cosigner key (what it prints) and `stop()`.
 */
export async function startWitness(dir, logKey, name = "witness.test/js") {
  const url = `http://127.0.0.1:${await freePort()}`;
  const args = [dll, "witness", "--log-key", logKey, "--listen", url, "--name", name, "--key", join(dir, "witness.key"), "--state", join(dir, "witness-state.json")];
  const child = spawn("dotnet", args, { env: { ...process.env, DOTNET_NOLOGO: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  const cosignerKey = await new Promise((resolveKey, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`the witness did not start within 60 s:\n${output}`)), 60_000);
    const onData = (chunk) => {
      output += chunk;
      // It prints "witness listening on URL", then "cosigner key: KEY".
      const key = /^cosigner key: (\S+)\r?\n/m.exec(output);
      if (key) {
        clearTimeout(timer);
        resolveKey(key[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the witness exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    cosignerKey,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolveExit) => child.once("exit", resolveExit));
        child.kill("SIGTERM");
        await exited;
      }
    },
  };
}

export function event(i, type = "data.accessed", severity = "info") {
  return { type, severity, category: "data", actor_id: `user-${i}`, target_id: `record-${i}`, action: "read", outcome: "success" };
}

/** Iterates `connection` until `until(message, seen)` holds (or 30 s pass), then closes it; resolves with every message seen, rejects with the connection's error. */
export async function collect(connection, until) {
  const seen = [];
  const timeout = setTimeout(() => connection.close(), 30_000);
  try {
    for await (const message of connection) {
      seen.push(message);
      if (await until(message, seen)) {
        break;
      }
    }
  } finally {
    clearTimeout(timeout);
    connection.close();
  }

  return seen;
}
