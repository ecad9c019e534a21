// The shared verification code (src/verify.ts, src/canonical.ts, src/witness.ts; the console imports it too) in Node's
// WebCrypto, against inputs made here: RFC 8785 vectors, notes signed and cosigned with fresh Ed25519 keys, and RFC 9162
// proofs over trees built in the test.
import assert from "node:assert/strict";
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { describe, test } from "node:test";
import { bytesToHex } from "../dist/verify.js";
import { WitnessPolicy, canonicalize, checkEventHash, checkProof, openCheckpoint, parseVerifierKey, verifyConsistency, verifyInclusion } from "../dist/index.js";

const sha = (...parts) => createHash("sha256").update(Buffer.concat(parts.map((p) => Buffer.from(p)))).digest();
const leafHash = (data) => sha([0], data);
const nodeHash = (l, r) => sha([1], l, r);

/** RFC 9162 §2.1.1 MTH over leaf hashes. */
function root(leaves) {
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(root(leaves.slice(0, k)), root(leaves.slice(k)));
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]) over leaf hashes, leaf side first. */
function path(m, leaves) {
  if (leaves.length === 1) return [];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return m < k ? [...path(m, leaves.slice(0, k)), root(leaves.slice(k))] : [...path(m - k, leaves.slice(k)), root(leaves.slice(0, k))];
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true) over leaf hashes. */
function consistency(m, leaves, complete = true) {
  if (m === leaves.length) return complete ? [] : [root(leaves)];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return m <= k
    ? [...consistency(m, leaves.slice(0, k), complete), root(leaves.slice(k))]
    : [...consistency(m - k, leaves.slice(k), false), root(leaves.slice(0, k))];
}

/** A note signer whose verifier key's base64 contains '+' when `plus` is set (the parser once split on every '+'). */
function signer(name, plus = true) {
  for (;;) {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    const raw = Buffer.from(publicKey.export({ format: "jwk" }).x, "base64url");
    const typed = Buffer.concat([Buffer.from([1]), raw]);
    const keyId = sha(Buffer.from(`${name}\n`), typed).subarray(0, 4);
    const key = `${name}+${keyId.toString("hex")}+${typed.toString("base64")}`;
    if (key.split("+").length > 3 === plus) {
      return {
        key,
        note: (text) => `${text}\n\u2014 ${name} ${Buffer.concat([keyId, sign(null, Buffer.from(text), privateKey)]).toString("base64")}\n`,
      };
    }
  }
}

describe("shared verification (src/verify.ts, src/witness.ts)", () => {
  test("canonicalize follows RFC 8785: sorted members by UTF-16 units, ECMAScript numbers, minimal escapes", () => {
    assert.equal(canonicalize(JSON.parse('{"b":[1.50,1e21,-0,0.000001],"a":"\\u00e9\\n\\u001f","\\u20ac":1,"\\ud83d\\ude00":2,"c":{"z":true,"y":null}}')),
      '{"a":"é\\n\\u001f","b":[1.5,1e+21,0,0.000001],"c":{"y":null,"z":true},"€":1,"😀":2}');
    // RFC 8785 §3.2.3's sorting example.
    assert.equal(canonicalize({ "\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis" }),
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis","€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}');
  });

  test("a verifier key whose base64 contains '+' parses, and a wrong key ID is refused", async () => {
    const { key } = signer("log.example/ledger");
    const parsed = await parseVerifierKey(key);
    assert.equal(typeof parsed, "object", String(parsed));
    assert.equal(parsed.name, "log.example/ledger");
    const [name, id, rest] = [key.slice(0, key.indexOf("+")), key.split("+")[1], key.slice(key.indexOf("+", key.indexOf("+") + 1) + 1)];
    const wrongId = `${name}+${id === "00000000" ? "00000001" : "00000000"}+${rest}`;
    assert.equal(await parseVerifierKey(wrongId), "the verifier key's ID does not match its name and key");
  });

  test("a signed checkpoint opens with its key, and an altered one, another key's or another origin's does not", async () => {
    const log = signer("log.example/ledger");
    const key = await parseVerifierKey(log.key);
    const rootHash = sha("root");
    const text = `log.example/ledger\n7\n${rootHash.toString("base64")}\n`;
    const opened = await openCheckpoint(log.note(text), key);
    assert.equal(opened.treeSize, 7);
    assert.equal(bytesToHex(opened.rootHash), rootHash.toString("hex"));

    assert.match(await openCheckpoint(log.note(text).replace("\n7\n", "\n8\n"), key), /does not verify: the checkpoint was altered or forged/);
    assert.match(await openCheckpoint(signer("log.example/ledger", false).note(text), key), /is not signed by the pinned key/);
    const other = signer("other.example/ledger");
    assert.match(await openCheckpoint(other.note(text), await parseVerifierKey(other.key)), /origin "log.example\/ledger" is not the pinned key's name/);
  });

  test("inclusion proofs verify for every leaf of trees of 1 to 17 leaves, and fail when any hash or the index is changed", async () => {
    for (let size = 1; size <= 17; size++) {
      const leaves = Array.from({ length: size }, (_, i) => leafHash(sha(`event ${i}`)));
      const treeRoot = root(leaves);
      for (let m = 0; m < size; m++) {
        const proof = path(m, leaves);
        assert.ok(await verifyInclusion(leaves[m], m, size, proof, treeRoot), `leaf ${m} of ${size}`);
        if (proof.length > 0) {
          const bad = proof.map((p, i) => (i === proof.length - 1 ? sha(p) : p));
          assert.equal(await verifyInclusion(leaves[m], m, size, bad, treeRoot), false);
        }

        if (size > 1) {
          assert.equal(await verifyInclusion(leaves[m], (m + 1) % size, size, proof, treeRoot), false, `leaf ${m} at another index`);
        }
      }
    }
  });

  test("consistency proofs verify between every pair of sizes up to 17, and fail for a changed hash, root or size", async () => {
    const leaves = Array.from({ length: 17 }, (_, i) => leafHash(sha(`event ${i}`)));
    for (let n = 1; n <= 17; n++) {
      const newRoot = root(leaves.slice(0, n));
      for (let m = 1; m <= n; m++) {
        const oldRoot = root(leaves.slice(0, m));
        const proof = consistency(m, leaves.slice(0, n));
        assert.ok(await verifyConsistency(m, n, oldRoot, newRoot, proof), `${m} → ${n}`);
        assert.equal(await verifyConsistency(m, n, sha("other"), newRoot, proof), false, `${m} → ${n} from another root`);
        if (proof.length > 0) {
          assert.equal(await verifyConsistency(m, n, oldRoot, newRoot, proof.map((p, i) => (i === 0 ? sha(p) : p))), false, `${m} → ${n} altered`);
        }

        if (m < n) {
          assert.equal(await verifyConsistency(m, n, oldRoot, sha("rewritten"), proof), false, `${m} → ${n} to a rewritten root`);
        }
      }
    }

    assert.equal(await verifyConsistency(3, 2, sha("a"), sha("a"), []), false, "a tree never shrinks");
  });

  test("an event's hash is recomputed from its canonical body, a modified event is caught, and masked pii is said to prevent it", async () => {
    const prev = sha("previous");
    const body = { type: "consent.granted", severity: "info", category: "compliance", seq: 2, prev_hash: prev.toString("hex"), metadata: { n: 1.5 }, timestamp: "2026-12-02T13:21:53.983910Z" };
    const hash = sha(prev, Buffer.from(canonicalize(body)));
    const event = { ...body, hash: hash.toString("hex") };
    const check = await checkEventHash(event);
    assert.equal(check.recomputed, true);

    assert.match((await checkEventHash({ ...event, severity: "error" })).error, /seq 2 does not hash to its hash field/);
    const masked = await checkEventHash({ ...event, pii: "[masked]" });
    assert.equal(masked.recomputed, false);
    assert.match(masked.why, /pii is masked/);

    // With pii encrypted the server sends the stored envelope beside what the role sees: every view recomputes the hash.
    const envelope = { alg: "A256GCM", ct: "Y3Q", iv: "aXY", kid: "dk_1" };
    const sealed = { ...body, pii: envelope };
    const sealedHash = sha(prev, Buffer.from(canonicalize(sealed))).toString("hex");
    for (const shown of ["[masked]", "[erased]", { email: "ann@example.com" }]) {
      const check = await checkEventHash({ ...sealed, pii: shown, pii_envelope: envelope, hash: sealedHash });
      assert.equal(check.recomputed, true, JSON.stringify(shown));
    }

    assert.match((await checkEventHash({ ...sealed, pii: "[masked]", pii_envelope: { ...envelope, kid: "dk_2" }, hash: sealedHash })).error, /does not hash/);

    // checkProof: leaf from the event hash, root from the checkpoint.
    const leaves = [leafHash(sha("first")), leafHash(hash), leafHash(sha("third"))];
    const checkpoint = { origin: "o", treeSize: 3, rootHash: root(leaves) };
    const proof = { seq: 2, leaf_index: 1, tree_size: 3, hashes: path(1, leaves).map((h) => h.toString("hex")) };
    assert.equal(await checkProof(2, hash, proof, checkpoint), null);
    assert.match(await checkProof(2, hash, { ...proof, tree_size: 4 }, checkpoint), /the proof is for seq 2 \(leaf 1\) in a tree of 4, not seq 2 in 3/);
    assert.match(await checkProof(2, sha("other"), proof, checkpoint), /does not lead to the signed checkpoint's root at tree size 3/);
  });

  test("a witness policy counts valid cosignature/v1 lines of distinct configured witnesses and refuses below its quorum", async () => {
    const text = `log.example/ledger\n9\n${sha("root").toString("base64")}\n`;
    const signed = signer("log.example/ledger").note(text);
    const witnesses = [cosigner("w1.example/witness"), cosigner("w2.example/witness"), cosigner("w3.example/witness")];
    const policy = await WitnessPolicy.create({ keys: witnesses.map((w) => w.key), quorum: 2 });
    const cosigned = signed + witnesses[0].line(text) + witnesses[1].line(text);
    assert.equal(await policy.check(cosigned), null);
    assert.equal(await policy.check(signed + witnesses[0].line(text)), "1 of the required 2 witnesses cosigned the checkpoint (w1.example/witness)");
    // The same witness twice is one witness; a cosignature of other text, or one altered, does not count.
    assert.match(await policy.check(signed + witnesses[0].line(text) + witnesses[0].line(text, 2)), /^1 of the required 2/);
    assert.match(await policy.check(signed + witnesses[0].line(text) + witnesses[1].line(text.replace("\n9\n", "\n10\n"))), /^1 of the required 2/);
    const altered = witnesses[1].line(text).replace(/ (\S+)\n$/, (_, b64) => {
      const raw = Buffer.from(b64, "base64");
      raw[20] ^= 1;
      return ` ${raw.toString("base64")}\n`;
    });
    assert.match(await policy.check(signed + witnesses[0].line(text) + altered), /^1 of the required 2/);
    await assert.rejects(WitnessPolicy.create({ keys: [witnesses[0].key], quorum: 2 }), /quorum must be between 1 and the number of keys \(1\)/);
    await assert.rejects(WitnessPolicy.create({ keys: [signer("log.example/ledger").key], quorum: 1 }), /witness key 0: the key is not an Ed25519 cosignature\/v1 key/);
  });
});

/** A witness: its cosigner key and cosignature/v1 lines (c2sp.org/tlog-cosignature) of a checkpoint text at a time. */
function cosigner(name) {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const typed = Buffer.concat([Buffer.from([4]), Buffer.from(publicKey.export({ format: "jwk" }).x, "base64url")]);
  const keyId = sha(Buffer.from(`${name}\n`), typed).subarray(0, 4);
  return {
    key: `${name}+${keyId.toString("hex")}+${typed.toString("base64")}`,
    line: (text, time = 1_700_000_000) => {
      const timestamp = Buffer.alloc(8);
      timestamp.writeBigUInt64BE(BigInt(time));
      const signature = sign(null, Buffer.from(`cosignature/v1\ntime ${time}\n${text}`), privateKey);
      return `\u2014 ${name} ${Buffer.concat([keyId, timestamp, signature]).toString("base64")}\n`;
    },
  };
}
