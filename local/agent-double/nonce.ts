/**
 * The agent's GCM nonce generator (amazon-ssm-agent agent/session/crypto/nonce.go, §9.3): a random
 * start, then a counter of three little-endian uint32 words with carry. Each call returns the
 * current state and then increments it. The agent uses one generator for every message it
 * encrypts, the encryption challenge included.
 */
import { randomBytes } from 'node:crypto';
import { GCM_NONCE_BYTES } from '../../lambda/ssm/constants';

const WORD_BYTES = 4;
const WORDS = GCM_NONCE_BYTES / WORD_BYTES;
const UINT32_MODULUS = 0x1_0000_0000;

export class CounterNonce {
  private readonly state: number[];

  constructor(initial: Buffer = randomBytes(GCM_NONCE_BYTES)) {
    if (initial.length !== GCM_NONCE_BYTES) throw new RangeError(`nonce must be ${GCM_NONCE_BYTES} bytes`);
    this.state = Array.from({ length: WORDS }, (_, word) => initial.readUInt32LE(word * WORD_BYTES));
  }

  next(): Buffer {
    const nonce = Buffer.alloc(GCM_NONCE_BYTES);
    for (let word = 0; word < WORDS; word++) nonce.writeUInt32LE(this.state[word] ?? 0, word * WORD_BYTES);
    for (let word = 0; word < WORDS; word++) {
      const value = ((this.state[word] ?? 0) + 1) % UINT32_MODULUS;
      this.state[word] = value;
      if (value !== 0) break;
    }
    return nonce;
  }
}
