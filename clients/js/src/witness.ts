// What a reader requires of witnesses before it trusts a checkpoint (c2sp.org/tlog-cosignature): valid Ed25519
// cosignature/v1 lines from at least `quorum` of the configured witnesses. Mirrors
// src/AuditStream.Client/Verification/WitnessPolicy.cs.
import { ed25519Verify, equal, parseNote, parseVerifierKey, type VerifierKey } from "./verify.js";

const encoder = new TextEncoder();

/** What a verifying subscription requires of witnesses: cosigner keys (`name+id+base64(0x04 ‖ key)`) and how many must have cosigned. */
export interface WitnessPolicyOptions {
  keys: string[];
  quorum: number;
}

/** A parsed witness policy; `check` says why a checkpoint falls short of it (null when it does not). */
export class WitnessPolicy {
  private constructor(
    readonly witnesses: VerifierKey[],
    readonly quorum: number,
  ) {}

  /** Parses the keys; throws a TypeError naming the bad key, or a quorum below 1 or above the number of keys. */
  static async create(options: WitnessPolicyOptions): Promise<WitnessPolicy> {
    const witnesses: VerifierKey[] = [];
    for (const [i, text] of options.keys.entries()) {
      const key = await parseVerifierKey(text, 0x04);
      if (typeof key === "string") {
        throw new TypeError(`witness key ${i}: ${key}`);
      }

      witnesses.push(key);
    }

    if (!Number.isInteger(options.quorum) || options.quorum < 1 || options.quorum > witnesses.length) {
      throw new TypeError(`the witness quorum must be between 1 and the number of keys (${witnesses.length}), not ${options.quorum}`);
    }

    return new WitnessPolicy(witnesses, options.quorum);
  }

  /** Null when `signedCheckpoint` carries valid cosignatures from `quorum` distinct witnesses, else why not. */
  async check(signedCheckpoint: string): Promise<string | null> {
    const note = parseNote(signedCheckpoint);
    if (typeof note === "string") {
      return `the checkpoint is malformed: ${note}`;
    }

    const cosigned: string[] = [];
    for (const witness of this.witnesses) {
      for (const { name, raw } of note.signatures) {
        if (name === witness.name && (await cosigns(witness, note.text, raw))) {
          cosigned.push(witness.name);
          break;
        }
      }
    }

    return cosigned.length >= this.quorum
      ? null
      : `${cosigned.length} of the required ${this.quorum} witnesses cosigned the checkpoint${cosigned.length > 0 ? ` (${cosigned.join(", ")})` : ""}`;
  }
}

/** Whether `raw` (key ID ‖ 8-byte big-endian timestamp ‖ Ed25519 signature) is `witness`'s cosignature/v1 of `text`. */
async function cosigns(witness: VerifierKey, text: string, raw: Uint8Array): Promise<boolean> {
  if (raw.length !== 4 + 8 + 64 || !equal(raw.slice(0, 4), witness.keyId)) {
    return false;
  }

  const timestamp = new DataView(raw.buffer, raw.byteOffset + 4, 8).getBigUint64(0);
  if (timestamp === 0n || timestamp > 0x7fffffffffffffffn) {
    return false;
  }

  const message = encoder.encode(`cosignature/v1\ntime ${timestamp}\n${text}`);
  return (await ed25519Verify(witness.publicKey, raw.slice(12), message)) === true;
}
