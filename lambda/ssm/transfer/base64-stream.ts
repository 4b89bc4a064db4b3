/**
 * Incremental base64 decoding of the wrapper's `base64` output as it arrives in frames: line
 * breaks (LF or CRLF, whatever the pty did) are skipped, and a group of four characters split
 * across frames is completed by the next one. Buffer's decoder does the work; this only keeps
 * the characters that do not make a whole group yet.
 */

const GROUP_CHARS = 4;
/** Letters, digits, `+`, `/` and `=` padding: every other byte is a line break or noise on the pty. */
const ALPHABET = new Uint8Array(256);
for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=') {
  ALPHABET[char.charCodeAt(0)] = 1;
}

export class Base64StreamDecoder {
  private carry = '';
  private skipped = 0;

  /** Bytes outside the base64 alphabet other than line breaks (something else wrote to the pty). */
  get strayBytes(): number {
    return this.skipped;
  }

  push(text: Buffer): Buffer {
    const kept = this.carry + this.alphabetOnly(text);
    const whole = kept.length - (kept.length % GROUP_CHARS);
    this.carry = kept.slice(whole);
    return whole === 0 ? Buffer.alloc(0) : Buffer.from(kept.slice(0, whole), 'base64');
  }

  /** The last characters; a well-formed stream leaves none. */
  finish(): Buffer {
    const rest = this.carry;
    this.carry = '';
    return rest === '' ? Buffer.alloc(0) : Buffer.from(rest, 'base64');
  }

  private alphabetOnly(text: Buffer): string {
    let clean = true;
    for (const byte of text) {
      if (ALPHABET[byte] === 0) {
        clean = false;
        break;
      }
    }
    if (clean) return text.toString('latin1');
    const kept = Buffer.allocUnsafe(text.length);
    let length = 0;
    for (const byte of text) {
      if (ALPHABET[byte] === 1) kept[length++] = byte;
      else if (byte !== 0x0a && byte !== 0x0d) this.skipped++;
    }
    return kept.toString('latin1', 0, length);
  }
}
