/**
 * Turns the pty's byte stream into clean UTF-8 text, chunk by chunk. Every stage keeps its own
 * state across chunks, so how the agent happened to cut its 1 KiB reads (spec §8.2) never changes
 * the result: a character, a CRLF or an escape sequence split over two chunks comes out the same
 * as if it had arrived whole.
 *
 *   bytes → UTF-8 decode (invalid bytes → U+FFFD) → strip ANSI escapes? → CRLF → LF? → UTF-8 bytes
 */

export interface TextNormalizerOptions {
  /** Turn CRLF (the pty's ONLCR translation, spec §8.3) into LF. A bare CR stays. @default true */
  readonly normalizeNewlines?: boolean;
  /** Remove terminal escape sequences (colours, cursor moves, titles, charset selections). @default false */
  readonly stripAnsi?: boolean;
}

const EMPTY = Buffer.alloc(0);
const CONTINUATION_MASK = 0xc0;
const CONTINUATION_BITS = 0x80;
/** The longest UTF-8 sequence minus one: the most an incomplete sequence can hold. */
const MAX_INCOMPLETE_UTF8_BYTES = 3;

// 7-bit introducers only: the 8-bit C1 forms (U+009B CSI, U+009D OSC, …) are not used by
// UTF-8 terminals or the programs that target them, so those code points are left as text.
const ESC = 0x1b;
const BEL = 0x07;
const CSI_INTRODUCER = 0x5b; // [
const OSC_INTRODUCER = 0x5d; // ]
/** DCS, SOS, PM and APC: control strings that only ST (ESC \) ends. */
const ST_ONLY_STRING_INTRODUCERS: ReadonlySet<number> = new Set([0x50, 0x58, 0x5e, 0x5f]); // P X ^ _
const ST_FINAL = 0x5c; // \ (ESC \ is ST)
const INTERMEDIATE_MIN = 0x20;
const INTERMEDIATE_MAX = 0x2f;
const PARAMETER_MIN = 0x30;
const PARAMETER_MAX = 0x3f;
const FINAL_MIN = 0x40;
const ESCAPE_FINAL_MIN = 0x30;
const FINAL_MAX = 0x7e;
/**
 * A stray `ESC ]` (binary output, a cut-off sequence) would otherwise swallow everything after it.
 * A control string longer than this is taken as ordinary text; real titles and hyperlinks are far shorter.
 */
export const MAX_CONTROL_STRING_CHARS = 64 * 1024;

/** Where the escape-sequence parser is between characters. */
const AnsiState = {
  Ground: 0,
  /** After ESC. */
  Escape: 1,
  /** After ESC and one or more intermediates (charset selection `ESC ( B`, `ESC # 8`, …). */
  EscapeIntermediate: 2,
  /** Inside `ESC [ params intermediates final` (private parameters `? < = >` included). */
  Csi: 3,
  /** Inside an OSC/DCS/SOS/PM/APC body. */
  ControlString: 4,
  /** After ESC inside a control string: `\` ends it (ST), anything else aborts it. */
  ControlStringEscape: 5,
} as const;
type AnsiState = (typeof AnsiState)[keyof typeof AnsiState];

/** How many bytes a sequence starting with `lead` has; 1 for ASCII and bytes that never start one. */
function utf8SequenceLength(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 1;
}

/**
 * The offset where an unfinished multi-byte sequence at the end of `bytes` starts, or
 * `bytes.length`. Cutting there is safe: a UTF-8 decoder is back in its initial state at any
 * non-continuation byte, so decoding the two sides separately gives what decoding them together would.
 */
export function incompleteUtf8TailStart(bytes: Buffer): number {
  const lowest = Math.max(0, bytes.length - MAX_INCOMPLETE_UTF8_BYTES);
  for (let i = bytes.length - 1; i >= lowest; i--) {
    const byte = bytes[i]!;
    if ((byte & CONTINUATION_MASK) !== CONTINUATION_BITS) {
      return bytes.length - i < utf8SequenceLength(byte) ? i : bytes.length;
    }
  }
  return bytes.length;
}

function isInRange(code: number, min: number, max: number): boolean {
  return code >= min && code <= max;
}

/** Streaming bytes → normalised UTF-8. `push` as chunks arrive, `finish` once. */
export class TextNormalizer {
  private readonly normalizeNewlines: boolean;
  private readonly stripAnsi: boolean;
  /** An unfinished UTF-8 sequence from the end of the last chunk (≤ 3 bytes). */
  private utf8Carry: Buffer = EMPTY;
  private ansiState: AnsiState = AnsiState.Ground;
  /** Whether the current control string is an OSC, which BEL may also end. */
  private controlStringIsOsc = false;
  /** The current control string's body, kept in case it turns out not to be one. */
  private controlStringParts: string[] = [];
  private controlStringChars = 0;
  /** A CR at the end of the last chunk: it becomes LF if the next character is LF. */
  private pendingCr = false;
  private finished = false;

  constructor(options: TextNormalizerOptions = {}) {
    this.normalizeNewlines = options.normalizeNewlines ?? true;
    this.stripAnsi = options.stripAnsi ?? false;
  }

  push(bytes: Buffer): Buffer {
    if (this.finished) {
      throw new Error('TextNormalizer.push after finish');
    }
    if (bytes.length === 0) {
      return EMPTY;
    }
    const input = this.utf8Carry.length === 0 ? bytes : Buffer.concat([this.utf8Carry, bytes]);
    const cut = incompleteUtf8TailStart(input);
    this.utf8Carry = Buffer.from(input.subarray(cut));
    return this.encode(this.transform(input.toString('utf8', 0, cut), false));
  }

  /** Flushes what is held: an unfinished UTF-8 sequence becomes U+FFFD, a trailing CR stays a CR. */
  finish(): Buffer {
    if (this.finished) {
      throw new Error('TextNormalizer.finish called twice');
    }
    this.finished = true;
    const text = this.utf8Carry.toString('utf8');
    this.utf8Carry = EMPTY;
    return this.encode(this.transform(text, true));
  }

  /** An independent copy in the same state, e.g. to preview what finishing now would give. */
  clone(): TextNormalizer {
    const copy = new TextNormalizer({ normalizeNewlines: this.normalizeNewlines, stripAnsi: this.stripAnsi });
    copy.utf8Carry = this.utf8Carry;
    copy.ansiState = this.ansiState;
    copy.controlStringIsOsc = this.controlStringIsOsc;
    copy.controlStringParts = [...this.controlStringParts];
    copy.controlStringChars = this.controlStringChars;
    copy.pendingCr = this.pendingCr;
    copy.finished = this.finished;
    return copy;
  }

  private encode(text: string): Buffer {
    return text.length === 0 ? EMPTY : Buffer.from(text, 'utf8');
  }

  private transform(text: string, atEnd: boolean): string {
    const stripped = this.stripAnsi ? this.removeEscapes(text, atEnd) : text;
    return this.normalizeNewlines ? this.crlfToLf(stripped, atEnd) : stripped;
  }

  private crlfToLf(text: string, atEnd: boolean): string {
    let joined = this.pendingCr ? `\r${text}` : text;
    this.pendingCr = !atEnd && joined.endsWith('\r');
    if (this.pendingCr) {
      joined = joined.slice(0, -1);
    }
    return joined.replaceAll('\r\n', '\n');
  }

  private removeEscapes(text: string, atEnd: boolean): string {
    const out: string[] = [];
    let i = 0;
    while (i < text.length) {
      if (this.ansiState === AnsiState.Ground) {
        const escAt = text.indexOf('\x1b', i);
        if (escAt === -1) {
          out.push(text.slice(i));
          break;
        }
        out.push(text.slice(i, escAt));
        this.ansiState = AnsiState.Escape;
        i = escAt + 1;
        continue;
      }
      if (this.ansiState === AnsiState.ControlString) {
        i = this.consumeControlString(text, i, out);
        continue;
      }
      // The remaining states look at one character. When `step` returns false the character was
      // not part of a sequence; it is looked at again in the ground state, so no text is swallowed.
      const code = text.charCodeAt(i);
      if (this.step(code)) {
        i++;
      }
    }
    if (atEnd) {
      this.endEscapes(out);
    }
    return out.join('');
  }

  /** One character in the Escape, EscapeIntermediate, Csi or ControlStringEscape state. */
  private step(code: number): boolean {
    switch (this.ansiState) {
      case AnsiState.Escape:
        return this.stepEscape(code);
      case AnsiState.EscapeIntermediate:
        if (isInRange(code, INTERMEDIATE_MIN, INTERMEDIATE_MAX)) return true;
        if (isInRange(code, ESCAPE_FINAL_MIN, FINAL_MAX)) {
          this.ansiState = AnsiState.Ground;
          return true;
        }
        return this.abortSequence(code);
      case AnsiState.Csi:
        if (
          isInRange(code, PARAMETER_MIN, PARAMETER_MAX) ||
          isInRange(code, INTERMEDIATE_MIN, INTERMEDIATE_MAX)
        ) {
          return true;
        }
        if (isInRange(code, FINAL_MIN, FINAL_MAX)) {
          this.ansiState = AnsiState.Ground;
          return true;
        }
        return this.abortSequence(code);
      case AnsiState.ControlStringEscape:
        this.resetControlString();
        if (code === ST_FINAL) {
          this.ansiState = AnsiState.Ground;
          return true;
        }
        // Terminals end a control string at any ESC; this one starts the next sequence.
        this.ansiState = AnsiState.Escape;
        return this.stepEscape(code);
      default:
        return false;
    }
  }

  private stepEscape(code: number): boolean {
    if (code === ESC) return true; // ESC ESC: the first one is dropped
    if (code === CSI_INTRODUCER) {
      this.ansiState = AnsiState.Csi;
    } else if (code === OSC_INTRODUCER || ST_ONLY_STRING_INTRODUCERS.has(code)) {
      this.ansiState = AnsiState.ControlString;
      this.controlStringIsOsc = code === OSC_INTRODUCER;
    } else if (isInRange(code, INTERMEDIATE_MIN, INTERMEDIATE_MAX)) {
      this.ansiState = AnsiState.EscapeIntermediate;
    } else if (isInRange(code, ESCAPE_FINAL_MIN, FINAL_MAX)) {
      this.ansiState = AnsiState.Ground; // a two-character sequence: ESC 7, ESC =, ESC M, ESC c, …
    } else {
      return this.abortSequence(code);
    }
    return true;
  }

  /** A character that cannot continue the sequence: drop the sequence, keep the character. */
  private abortSequence(code: number): boolean {
    if (code === ESC) {
      // A new sequence starts and replaces the unfinished one.
      this.ansiState = AnsiState.Escape;
      return true;
    }
    this.ansiState = AnsiState.Ground;
    return false;
  }

  /** Consumes control-string body from `start`; returns where to continue. */
  private consumeControlString(text: string, start: number, out: string[]): number {
    let end = start;
    while (end < text.length) {
      const code = text.charCodeAt(end);
      if (code === ESC || (code === BEL && this.controlStringIsOsc)) break;
      end++;
    }
    const room = MAX_CONTROL_STRING_CHARS - this.controlStringChars;
    if (end - start > room) {
      // Too long to be a real control string: give its body back as text.
      this.controlStringParts.push(text.slice(start, start + room));
      out.push(this.controlStringParts.join(''));
      this.resetControlString();
      this.ansiState = AnsiState.Ground;
      return start + room;
    }
    if (end > start) {
      this.controlStringParts.push(text.slice(start, end));
      this.controlStringChars += end - start;
    }
    if (end === text.length) {
      return end;
    }
    if (text.charCodeAt(end) === ESC) {
      this.ansiState = AnsiState.ControlStringEscape;
    } else {
      this.resetControlString();
      this.ansiState = AnsiState.Ground;
    }
    return end + 1;
  }

  /**
   * End of stream inside a sequence. An unfinished CSI or ESC sequence is dropped, as a terminal
   * would never show it; an unterminated control string was never one, so its body is kept.
   */
  private endEscapes(out: string[]): void {
    if (this.ansiState === AnsiState.ControlString || this.ansiState === AnsiState.ControlStringEscape) {
      out.push(this.controlStringParts.join(''));
    }
    this.resetControlString();
    this.ansiState = AnsiState.Ground;
  }

  private resetControlString(): void {
    this.controlStringParts = [];
    this.controlStringChars = 0;
  }
}
