// Checks, in a browser or Node 20+ (WebCrypto), that an event is in the ledger the pinned key signed (docs/ledger.md):
// the C2SP signed-note checkpoint (Ed25519), RFC 9162 inclusion and consistency proofs, and the event's own hash chain
// link, hash = SHA-256(prev_hash ‖ JCS(event without hash)). Mirrors src/AuditStream.Client/Verification/InclusionCheck.cs.
// The console (clients/dashboard) and the stream verifier (stream-verifier.ts) share it.
import { canonicalize } from "./canonical.js";
import type { AuditEvent } from "./types.js";

const encoder = new TextEncoder();

export function hexToBytes(hex: string): Uint8Array | null {
  if (typeof hex !== "string" || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    return null;
  }

  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  }

  return bytes;
}

export function bytesToHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function base64ToBytes(text: string): Uint8Array | null {
  try {
    const raw = atob(text);
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }

  return out;
}

export async function sha256(...parts: Uint8Array[]): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", concat(...parts)));
}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A note verifier key, `name+keyid+base64(0x01 ‖ Ed25519 public key)` (c2sp.org/signed-note). */
export interface VerifierKey {
  text: string;
  name: string;
  keyId: Uint8Array;
  publicKey: Uint8Array;
}

/**
 * Parses a verifier key and checks that its key ID is the one its name and key hash to; a string says what is wrong.
 * `type` is the signature type: 0x01 a signed-note Ed25519 key, 0x04 a tlog-cosignature (witness) key.
 */
export async function parseVerifierKey(text: string, type = 0x01): Promise<VerifierKey | string> {
  // Names and key IDs have no '+'; the base64 key may.
  const trimmed = text.trim();
  const first = trimmed.indexOf("+");
  const second = first < 0 ? -1 : trimmed.indexOf("+", first + 1);
  if (first <= 0 || second < 0) {
    return "the verifier key is not name+keyid+key";
  }

  const name = trimmed.slice(0, first);
  const idHex = trimmed.slice(first + 1, second);
  const keyBase64 = trimmed.slice(second + 1);
  const keyId = hexToBytes(idHex);
  const typed = base64ToBytes(keyBase64);
  if (!keyId || keyId.length !== 4 || !typed || typed.length !== 33 || typed[0] !== type) {
    return type === 0x01 ? "the verifier key is not an Ed25519 note key" : "the key is not an Ed25519 cosignature/v1 key";
  }

  // signed-note §Signature types: key ID = SHA-256(name ‖ "\n" ‖ type ‖ key)[:4].
  const expected = (await sha256(encoder.encode(`${name}\n`), typed)).slice(0, 4);
  if (!equal(expected, keyId)) {
    return "the verifier key's ID does not match its name and key";
  }

  return { text: trimmed, name, keyId, publicKey: typed.slice(1) };
}

/** A checkpoint whose signature by the pinned key verified. */
export interface VerifiedCheckpoint {
  origin: string;
  treeSize: number;
  rootHash: Uint8Array;
}

/** A signed note split into its text (final newline included) and its signature lines' names and raw bytes. */
export interface ParsedNote {
  text: string;
  signatures: Array<{ name: string; raw: Uint8Array }>;
}

/** Splits a signed note (c2sp.org/signed-note); a string says what is malformed. */
export function parseNote(note: string): ParsedNote | string {
  const split = note.lastIndexOf("\n\n");
  if (split < 0 || !note.endsWith("\n")) {
    return "the checkpoint is not a signed note (no blank line before the signatures)";
  }

  const signatures: ParsedNote["signatures"] = [];
  for (const line of note.slice(split + 2, -1).split("\n")) {
    const match = /^\u2014 (\S+) (\S+)$/.exec(line);
    const raw = match ? base64ToBytes(match[2]!) : null;
    if (!match || !raw) {
      return `malformed signature line "${line}"`;
    }

    signatures.push({ name: match[1]!, raw });
  }

  return { text: note.slice(0, split + 1), signatures };
}

/** Whether `signature` is `publicKey`'s Ed25519 signature of `message`; a string when this runtime has no Ed25519. */
export async function ed25519Verify(publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array): Promise<boolean | string> {
  try {
    const key = await crypto.subtle.importKey("raw", concat(publicKey), { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, key, concat(signature), concat(message));
  } catch (error) {
    return `this runtime cannot check Ed25519 signatures (${(error as Error).message})`;
  }
}

/** Opens a signed checkpoint note with the trusted key (signed-note §Signatures, tlog-checkpoint §Note text); a string says what failed. */
export async function openCheckpoint(note: string, key: VerifierKey): Promise<VerifiedCheckpoint | string> {
  const parsed = parseNote(note);
  if (typeof parsed === "string") {
    return parsed;
  }

  const { text } = parsed;
  let verified = false;
  for (const { name, raw } of parsed.signatures) {
    if (name !== key.name || raw.length < 4 || !equal(raw.slice(0, 4), key.keyId)) {
      continue; // signatures by unknown keys are ignored
    }

    if (raw.length !== 68) {
      return "the checkpoint's signature by the pinned key is not 64 bytes";
    }

    const ok = await ed25519Verify(key.publicKey, raw.slice(4), encoder.encode(text));
    if (typeof ok === "string") {
      return ok;
    }

    if (!ok) {
      return `the checkpoint's signature by the pinned key ${key.name} does not verify: the checkpoint was altered or forged`;
    }

    verified = true;
  }

  if (!verified) {
    return `the checkpoint is not signed by the pinned key ${key.text}`;
  }

  const [origin, size, root, ...rest] = text.slice(0, -1).split("\n");
  const rootHash = root === undefined ? null : base64ToBytes(root);
  if (origin === undefined || size === undefined || !/^(0|[1-9][0-9]*)$/.test(size) || !rootHash || rootHash.length !== 32 || rest.some((l) => l === "")) {
    return "the signed checkpoint text is not origin, tree size and root hash";
  }

  if (origin !== key.name) {
    return `the checkpoint's origin "${origin}" is not the pinned key's name "${key.name}"`;
  }

  return { origin, treeSize: Number(size), rootHash };
}

/** RFC 9162 §2.1.3.2: whether `path` leads from `leafHash` at `leafIndex` to `root` in a tree of `treeSize` leaves. */
export async function verifyInclusion(leafHash: Uint8Array, leafIndex: number, treeSize: number, path: Uint8Array[], root: Uint8Array): Promise<boolean> {
  if (leafIndex < 0 || leafIndex >= treeSize) {
    return false;
  }

  // Integers up to 2^53: halve with division, not 32-bit shifts.
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leafHash;
  const node = Uint8Array.of(0x01);
  for (const p of path) {
    if (sn === 0) {
      return false;
    }

    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(node, p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      r = await sha256(node, r, p);
    }

    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }

  return sn === 0 && equal(r, root);
}

function isPowerOfTwo(n: number): boolean {
  while (n > 1 && n % 2 === 0) {
    n /= 2;
  }

  return n === 1;
}

/**
 * RFC 9162 §2.1.4.2: whether `path` proves that the tree of `first` leaves with root `firstHash` is a prefix of the
 * tree of `second` leaves with root `secondHash`.
 */
export async function verifyConsistency(first: number, second: number, firstHash: Uint8Array, secondHash: Uint8Array, path: Uint8Array[]): Promise<boolean> {
  if (first < 1 || first > second) {
    return false;
  }

  if (first === second) {
    return path.length === 0 && equal(firstHash, secondHash);
  }

  // A first tree that is a complete subtree is its own starting node.
  const proof = isPowerOfTwo(first) ? [firstHash, ...path] : path;
  if (proof.length === 0) {
    return false;
  }

  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }

  let fr = proof[0]!;
  let sr = proof[0]!;
  const node = Uint8Array.of(0x01);
  for (const c of proof.slice(1)) {
    if (sn === 0) {
      return false;
    }

    if (fn % 2 === 1 || fn === sn) {
      fr = await sha256(node, c, fr);
      sr = await sha256(node, c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = await sha256(node, sr, c);
    }

    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }

  return sn === 0 && equal(fr, firstHash) && equal(sr, secondHash);
}

/** Parses a list of hex SHA-256 hashes; a string names the first bad one. */
export function parseHashes(hashes: unknown): Uint8Array[] | string {
  if (!Array.isArray(hashes)) {
    return "the proof has no hashes list";
  }

  const path: Uint8Array[] = [];
  for (const [i, hex] of hashes.entries()) {
    const bytes = hexToBytes(hex as string);
    if (!bytes || bytes.length !== 32) {
      return `proof hash ${i} is not a hex SHA-256`;
    }

    path.push(bytes);
  }

  return path;
}

/** The server's answer to `GET /api/v1/ledger/proofs/inclusion` (docs/api.md). */
export interface InclusionProof {
  seq: number;
  leaf_index: number;
  tree_size: number;
  event_hash: string;
  leaf_hash: string;
  root_hash: string;
  hashes: string[];
}

/** What the console may say about an event's hash: recomputed from what it shows, or (masked pii) only taken from it. */
export type EventHashCheck = { recomputed: true; hash: Uint8Array } | { recomputed: false; hash: Uint8Array; why: string } | { error: string };

/** Recomputes the event's hash from its canonical body (pii as stored: its envelope), unless pii is masked with no envelope. */
export async function checkEventHash(event: AuditEvent): Promise<EventHashCheck> {
  const stored = hexToBytes(event.hash ?? "");
  if (!stored || stored.length !== 32) {
    return { error: "the event has no hex SHA-256 hash" };
  }

  // pii is hashed in its stored form, the envelope the server sends beside what this role may see (docs/privacy.md).
  const { pii_envelope: envelope, ...served } = event;
  const hashed = envelope === undefined ? served : { ...served, pii: envelope };
  if (hashed.pii === "[masked]" || hashed.pii === "[erased]") {
    return { recomputed: false, hash: stored, why: "pii is masked for your role, so the event's hash cannot be recomputed from what you see; only the stored hash was checked" };
  }

  const prev = hexToBytes(event.prev_hash ?? "");
  if (!prev || prev.length !== 32) {
    return { error: "the event has no hex prev_hash" };
  }

  const { hash: _hash, ...body } = hashed;
  let canonical: string;
  try {
    canonical = canonicalize(body);
  } catch (error) {
    return { error: `the event has no canonical form: ${(error as Error).message}` };
  }

  const computed = await sha256(prev, encoder.encode(canonical));
  if (!equal(computed, stored)) {
    return { error: `seq ${event.seq} does not hash to its hash field: SHA-256(prev_hash ‖ JCS(event)) is ${bytesToHex(computed)}, the event says ${event.hash}` };
  }

  return { recomputed: true, hash: stored };
}

/** Checks a proof against a verified checkpoint for an event hash; null when it holds, or what failed. */
export async function checkProof(seq: number, eventHash: Uint8Array, proof: InclusionProof, checkpoint: VerifiedCheckpoint): Promise<string | null> {
  if (proof.seq !== seq || proof.tree_size !== checkpoint.treeSize || proof.leaf_index !== seq - 1) {
    return `the proof is for seq ${proof.seq} (leaf ${proof.leaf_index}) in a tree of ${proof.tree_size}, not seq ${seq} in ${checkpoint.treeSize}`;
  }

  const path = parseHashes(proof.hashes);
  if (typeof path === "string") {
    return path;
  }

  // The leaf is recomputed from the event's hash (RFC 9162 §2.1.1); the server's leaf_hash and root_hash are not trusted.
  const leaf = await sha256(Uint8Array.of(0x00), eventHash);
  const ok = await verifyInclusion(leaf, seq - 1, checkpoint.treeSize, path, checkpoint.rootHash);
  return ok ? null : `the inclusion proof for seq ${seq} does not lead to the signed checkpoint's root at tree size ${checkpoint.treeSize}`;
}
