import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { AuthError, FilterError, HttpError, LedgerMismatchError, connect, publish } from "../dist/index.js";
import { AuditStreamServer, collect, event } from "./server.mjs";

const seqsOf = (messages) => messages.filter((m) => m.type === "audit.event.published").map((m) => m.seq);

describe("against a running server", () => {
  let server;
  before(async () => {
    server = await AuditStreamServer.start();
  });
  after(async () => {
    await server?.dispose();
  });

  test("publish returns receipts once committed; a resent id is a duplicate", async () => {
    const options = { url: server.url, token: server.producerToken() };
    const first = await publish(options, { ...event(1), id: "0192f0a0-0000-7000-8000-000000000001" });
    assert.equal(first.seq, 1);
    assert.match(first.hash, /^[0-9a-f]{64}$/);
    const again = await publish(options, [{ ...event(1), id: "0192f0a0-0000-7000-8000-000000000001" }, event(2)]);
    assert.deepEqual(again.map((r) => [r.seq, r.duplicate]), [[1, true], [2, false]]);
  });

  test("publish errors are typed and name the field and rule", async () => {
    await assert.rejects(publish({ url: server.url, token: server.producerToken() }, event(1, "data.accessed", "loud")), (error) => {
      assert.ok(error instanceof HttpError);
      assert.equal(error.status, 400);
      assert.equal(error.errors[0].field, "severity");
      return true;
    });
    await assert.rejects(publish({ url: server.url, token: server.readerToken() }, event(1)), (error) => error instanceof AuthError && error.status === 403);
  });

  test("receives filtered events from since_seq through the iterator and the callbacks", async () => {
    const producer = { url: server.url, token: server.producerToken() };
    const base = (await publish(producer, event(0))).seq;
    await publish(producer, [event(1, "consent.granted"), event(2), event(3, "consent.revoked")]);
    const viaCallback = [];
    const connection = connect({
      url: server.url,
      token: server.readerToken(),
      sinceSeq: base,
      filters: { event_types: ["consent.*"] },
      onEvent: (m) => viaCallback.push(m.seq),
    });
    const seen = await collect(connection, (_m, all) => seqsOf(all).length === 2);
    connection.close();
    assert.deepEqual(seqsOf(seen), [base + 1, base + 3]);
    assert.deepEqual(viaCallback, [base + 1, base + 3]);
    assert.deepEqual(seen.filter((m) => m.type === "audit.event.published").map((m) => m.audit_event.type), ["consent.granted", "consent.revoked"]);
    assert.equal(seen[0].type, "audit.connection.established");
  });

  test("ping answers with a pong; updateFilters changes what arrives", async () => {
    const connection = connect({ url: server.url, token: server.readerToken() });
    await connection.ready;
    const pong = await connection.ping();
    assert.equal(pong.type, "audit.connection.pong");
    assert.deepEqual((await connection.updateFilters({ severities: ["error"] })).severities, ["error"]);
    const receipts = await publish({ url: server.url, token: server.producerToken() }, [event(1), event(2, "auth.failure", "error")]);
    const seen = await collect(connection, (m) => m.type === "audit.event.published");
    connection.close();
    assert.deepEqual(seqsOf(seen), [receipts[1].seq]);
  });

  test("a bad token and bad filters are typed errors, not endless retries", async () => {
    await assert.rejects(collect(connect({ url: server.url, token: "nope" }), () => false), (error) => error instanceof AuthError && error.status === 401);
    await assert.rejects(collect(connect({ url: server.url, token: server.readerToken(), filters: { severities: ["loud"] } }), () => false), (error) => {
      assert.ok(error instanceof FilterError);
      assert.match(error.message, /severities/);
      return true;
    });
  });
});

for (const verifying of [false, true]) {
  const title = verifying
    ? "verifying (verify), resumes across a server restart with every seq delivered exactly once, proved, the checkpoints consistent"
    : "resumes across a server restart with every seq exactly once";
  test(title, () => resumesAcrossRestart(verifying));
}

async function resumesAcrossRestart(verifying) {
  const server = await AuditStreamServer.start();
  try {
    const producer = { url: server.url, token: server.producerToken() };
    await publish(producer, Array.from({ length: 100 }, (_, i) => event(i)));
    const verify = verifying ? { key: (await (await fetch(`${server.url}/api/v1/ledger/public-key`)).text()).trim() } : undefined;
    const connection = connect({ url: server.url, token: server.readerToken(), sinceSeq: 0, minDelayMs: 50, maxDelayMs: 500, verify });
    let restart = null;
    const seen = await collect(connection, (_m, all) => {
      const count = seqsOf(all).length;
      if (count === 30 && !restart) {
        restart = server.restart().then(() => publish(producer, Array.from({ length: 50 }, (_, i) => event(100 + i))));
      }

      return count === 150;
    });
    connection.close();
    await restart;
    assert.deepEqual(seqsOf(seen), Array.from({ length: 150 }, (_, i) => i + 1));
    assert.ok(seen.some((m) => m.type === "client.reconnecting"));
    if (verifying) {
      assert.ok(seen.filter((m) => m.type === "audit.event.published").every((m) => m.verified?.content_verified));
    }
  } finally {
    await server.dispose();
  }
}

test("remembers the ledger id and refuses to resume on another ledger at the same address", async () => {
  const server = await AuditStreamServer.start();
  try {
    const producer = { url: server.url, token: server.producerToken() };
    await publish(producer, [event(1), event(2), event(3)]);
    const connection = connect({ url: server.url, token: server.readerToken(), sinceSeq: 0, minDelayMs: 50, maxDelayMs: 500 });
    const established = await connection.ready;
    assert.match(established.ledger_id, /^[0-9a-f]{32}$/);
    const first = established.ledger_id;
    let replaced = null;
    let mismatch = null;
    await assert.rejects(
      collect(connection, (message, all) => {
        if (message.type === "audit.error") {
          mismatch = message;
        }

        if (seqsOf(all).length === 3 && !replaced) {
          // The same address now serves a new, empty ledger whose seqs 4.. are other events.
          replaced = (async () => {
            await server.stop();
            rmSync(server.dataDir, { recursive: true, force: true });
            await server.startAgain();
            await publish(producer, [event(4), event(5), event(6), event(7)]);
          })();
        }

        return false;
      }),
      (error) => error instanceof LedgerMismatchError && error.message.includes(first),
    );
    await replaced;
    assert.equal(connection.ledgerId, first);
    assert.equal(mismatch?.code, "ledger_mismatch");
  } finally {
    await server.dispose();
  }
});

test("a saved position resumes with its ledger id and is refused with another", async () => {
  const server = await AuditStreamServer.start();
  try {
    await publish({ url: server.url, token: server.producerToken() }, [event(1), event(2), event(3), event(4)]);
    const probe = connect({ url: server.url, token: server.readerToken() });
    const ledgerId = (await probe.ready).ledger_id;
    probe.close();

    const resumed = connect({ url: server.url, token: server.readerToken(), sinceSeq: 2, ledgerId });
    const seen = await collect(resumed, (m) => m.type === "audit.stream.caught_up");
    resumed.close();
    assert.deepEqual(seqsOf(seen), [3, 4]);
    assert.equal(seen[0].ledger_id, ledgerId);

    const foreign = connect({ url: server.url, token: server.readerToken(), sinceSeq: 2, ledgerId: "0123456789abcdef0123456789abcdef" });
    const refused = [];
    await assert.rejects(
      collect(foreign, (m) => refused.push(m) < 0),
      (error) => error instanceof LedgerMismatchError && error.message.includes(ledgerId),
    );
    assert.deepEqual(seqsOf(refused), []);
  } finally {
    await server.dispose();
  }
});
