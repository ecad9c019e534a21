// A verifying connection (`verify`) against the real server: a proof-carrying stream that checks out is delivered with
// every event proved; what an altering man in the middle changes (a proof hash, an event's body, the checkpoint's
// signature, a consistency proof) is rejected with StreamVerificationError naming the seq, and nothing after it is
// delivered. The alterations happen in a WebSocket (and fetch) the test passes to the client, between the server's
// frames and the client's checks.
import assert from "node:assert/strict";
import { createHash, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { StreamVerificationError, connect, publish } from "../dist/index.js";
import { AuditStreamServer, collect, event, startWitness } from "./server.mjs";

/** A WebSocket whose incoming frames pass through `alter(message)` (return the message, changed or not) before the client sees them. */
function alteringWebSocket(alter) {
  return class AlteringWebSocket extends WebSocket {
    set onmessage(handler) {
      super.onmessage = (frame) => handler({ data: JSON.stringify(alter(JSON.parse(frame.data))) });
    }
  };
}

const events = (seen) => seen.filter((m) => m.type === "audit.event.published");

/** Resolves once the server has signed a checkpoint covering `size` events. */
async function checkpointCovering(server, size) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const note = await (await fetch(`${server.url}/api/v1/ledger/checkpoint`)).text();
    if (Number(note.split("\n")[1]) >= size) {
      return;
    }

    if (Date.now() > deadline) {
      throw new Error(`no checkpoint covering ${size} events within 30 s`);
    }

    await new Promise((resolveSoon) => setTimeout(resolveSoon, 50));
  }
}

describe("verifying the stream", () => {
  let server;
  let key;
  before(async () => {
    server = await AuditStreamServer.start();
    key = (await (await fetch(`${server.url}/api/v1/ledger/public-key`)).text()).trim();
    await publish({ url: server.url, token: server.producerToken() }, Array.from({ length: 20 }, (_, i) => event(i)));
    await checkpointCovering(server, 20);
  });
  after(async () => {
    await server?.dispose();
  });

  const verifying = (extra = {}) => connect({ url: server.url, token: server.readerToken(), sinceSeq: 0, verify: { key }, ...extra });

  test("a stream that checks out delivers every event, replayed and live, once proved against a verified checkpoint", async () => {
    const connection = verifying();
    let live = null;
    const seen = await collect(connection, (message, all) => {
      if (events(all).length === 20 && !live) {
        live = publish({ url: server.url, token: server.producerToken() }, Array.from({ length: 5 }, (_, i) => event(100 + i)));
      }

      return events(all).length === 25;
    });
    await live;
    const delivered = events(seen);
    assert.deepEqual(delivered.map((m) => m.seq), Array.from({ length: 25 }, (_, i) => i + 1));
    for (const message of delivered) {
      assert.ok(message.verified, `seq ${message.seq} was delivered unproved`);
      assert.ok(message.verified.tree_size >= message.seq);
      assert.equal(message.verified.content_verified, true);
    }

    // The replay was proved inline against the first checkpoint; the live events needed a later one (checked for consistency).
    assert.ok(delivered.slice(0, 20).every((m) => m.verified.inline));
    assert.ok(delivered.slice(20).some((m) => !m.verified.inline), "no live event was proved by a later audit.event.proof");
    assert.ok(seen.filter((m) => m.type === "audit.ledger.checkpoint").length >= 2);
    assert.equal(seen[0].type, "audit.connection.established");
    assert.equal(seen[0].proofs, true);
  });

  /** Runs a verifying connection through `alter` and returns the error it ends with and the seqs delivered before it. */
  async function rejected(options) {
    const delivered = [];
    const connection = verifying(options);
    const error = await collect(connection, (message) => {
      if (message.type === "audit.event.published") {
        delivered.push(message.seq);
      }

      return false;
    }).then(
      () => assert.fail("the altered stream was accepted"),
      (failure) => failure,
    );
    assert.ok(error instanceof StreamVerificationError, `${error}`);
    return { error, delivered };
  }

  test("a tampered inclusion proof is rejected naming the seq", async () => {
    const WebSocket = alteringWebSocket((m) => {
      if (m.type === "audit.event.published" && m.seq === 7 && m.proof) {
        const hash = Buffer.from(m.proof.hashes[0], "base64");
        hash[0] ^= 1;
        m.proof.hashes[0] = hash.toString("base64");
      }

      return m;
    });
    const { error, delivered } = await rejected({ WebSocket });
    assert.equal(error.seq, 7);
    assert.match(error.failure, /inclusion proof for seq 7 does not lead to the checkpoint's root/);
    assert.deepEqual(delivered, [1, 2, 3, 4, 5, 6]);
  });

  test("a tampered event body is rejected naming the seq", async () => {
    const WebSocket = alteringWebSocket((m) => {
      if (m.type === "audit.event.published" && m.seq === 5) {
        m.audit_event.actor_id = "someone-else";
      }

      return m;
    });
    const { error, delivered } = await rejected({ WebSocket });
    assert.equal(error.seq, 5);
    assert.match(error.failure, /does not hash to its hash field/);
    assert.deepEqual(delivered, [1, 2, 3, 4]);
  });

  test("a tampered proof of a live event (its audit.event.proof) is rejected naming the seq", async () => {
    // Live events normally get their proof in a later audit.event.proof; inline, should a checkpoint cover one first.
    const WebSocket = alteringWebSocket((m) => {
      if (m.type === "audit.event.proof" || (m.type === "audit.event.published" && m.proof && m.audit_event.actor_id === "user-300")) {
        const hash = Buffer.from(m.proof.hashes[0], "base64");
        hash[31] ^= 1;
        m.proof.hashes[0] = hash.toString("base64");
      }

      return m;
    });
    let live = null;
    const delivered = [];
    const connection = verifying({ WebSocket });
    const error = await collect(connection, (message) => {
      if (message.type === "audit.event.published") {
        delivered.push(message.seq);
      }

      if (message.type === "audit.stream.caught_up" && !live) {
        live = publish({ url: server.url, token: server.producerToken() }, [event(300), event(301)]);
      }

      return false;
    }).then(
      () => assert.fail("the altered deferred proof was accepted"),
      (failure) => failure,
    );
    const receipts = await live;
    assert.ok(error instanceof StreamVerificationError, `${error}`);
    assert.equal(error.seq, receipts[0].seq);
    assert.match(error.failure, new RegExp(`inclusion proof for seq ${receipts[0].seq} does not lead`));
    assert.ok(!delivered.includes(receipts[0].seq), "the live event was delivered before its proof");
  });

  test("a forged checkpoint signature is rejected before any event is delivered", async () => {
    const WebSocket = alteringWebSocket((m) => {
      if (m.type === "audit.ledger.checkpoint") {
        const [text, signatures] = m.checkpoint.split("\n\n");
        const [, name, signature] = /^\u2014 (\S+) (\S+)$/.exec(signatures.split("\n")[0]);
        const raw = Buffer.from(signature, "base64");
        raw[10] ^= 1;
        m.checkpoint = `${text}\n\n\u2014 ${name} ${raw.toString("base64")}\n`;
      }

      return m;
    });
    const { error, delivered } = await rejected({ WebSocket });
    assert.equal(error.seq, null);
    assert.ok(error.treeSize >= 20);
    assert.match(error.failure, /signature by the pinned key .* does not verify/);
    assert.deepEqual(delivered, []);
  });

  test("a checkpoint not consistent with the largest one verified is rejected", async () => {
    // The server's consistency proof, with one hash changed on its way to the client.
    const alteringFetch = async (url, init) => {
      const response = await fetch(url, init);
      if (!String(url).includes("/proofs/consistency")) {
        return response;
      }

      const body = await response.json();
      body.hashes[0] = `${body.hashes[0][0] === "0" ? "1" : "0"}${body.hashes[0].slice(1)}`;
      return new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
    };
    let published = false;
    const connection = verifying({ fetch: alteringFetch });
    const error = await collect(connection, (message, all) => {
      if (events(all).length >= 20 && !published) {
        published = true;
        void publish({ url: server.url, token: server.producerToken() }, Array.from({ length: 3 }, (_, i) => event(200 + i)));
      }

      return false;
    }).then(
      () => assert.fail("the inconsistent checkpoint was accepted"),
      (failure) => failure,
    );
    assert.ok(error instanceof StreamVerificationError, `${error}`);
    assert.equal(error.seq, null);
    assert.match(error.failure, /not consistent with the verified checkpoint at tree size \d+/);
  });

  test("a witness policy the server's checkpoints do not meet is rejected at the first checkpoint", async () => {
    // A witness this server never submitted to (a fresh key): its cosignature cannot be on any checkpoint.
    const raw = generateKeyPairSync("ed25519").publicKey.export({ format: "der", type: "spki" }).subarray(-32);
    const typed = Buffer.concat([Buffer.of(0x04), raw]);
    const id = createHash("sha256").update(Buffer.concat([Buffer.from("witness.example/w1\n"), typed])).digest().subarray(0, 4).toString("hex");
    const witness = `witness.example/w1+${id}+${typed.toString("base64")}`;
    const { error, delivered } = await rejected({ verify: { key, witnesses: { keys: [witness], quorum: 1 } } });
    assert.equal(error.seq, null);
    assert.match(error.failure, /witness policy: 0 of the required 1 witnesses cosigned the checkpoint/);
    assert.deepEqual(delivered, []);
  });
});

test("with a witness policy, the checkpoints auditstream witness cosigned are accepted and every event is proved against them", async () => {
  const server = await AuditStreamServer.start();
  const dir = mkdtempSync(join(tmpdir(), "auditstream-js-witness-"));
  let witness = null;
  try {
    const key = (await (await fetch(`${server.url}/api/v1/ledger/public-key`)).text()).trim();
    witness = await startWitness(dir, key);
    await server.restart({
      AuditStream__Witnessing__Witnesses__0__Url: `${witness.url}/`,
      AuditStream__Witnessing__Witnesses__0__PublicKey: witness.cosignerKey,
      AuditStream__Witnessing__RetryDelay: "00:00:00.100",
    });
    await publish({ url: server.url, token: server.producerToken() }, Array.from({ length: 8 }, (_, i) => event(i)));
    const connection = connect({ url: server.url, token: server.readerToken(), sinceSeq: 0, verify: { key, witnesses: { keys: [witness.cosignerKey], quorum: 1 } } });
    const seen = await collect(connection, (_m, all) => events(all).length === 8);
    const delivered = events(seen);
    assert.deepEqual(delivered.map((m) => m.seq), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.ok(delivered.every((m) => m.verified?.content_verified));
    const checkpoints = seen.filter((m) => m.type === "audit.ledger.checkpoint");
    assert.ok(checkpoints.length >= 1);
    assert.ok(checkpoints.every((m) => m.checkpoint.includes(`\u2014 ${witness.cosignerKey.split("+")[0]} `)), "every checkpoint carries the witness's cosignature");
  } finally {
    await witness?.stop();
    await server.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
