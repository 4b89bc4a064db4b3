import fc from 'fast-check';
import type { PartialResult } from '../../lambda/ssm/errors';
import {
  BoundedOutputSink,
  CallbackSink,
  EXIT_MARKER_PREFIX,
  ExitMarkerExtractor,
  formatExitMarker,
  formatOmissionNotice,
  MAX_CONTROL_STRING_CHARS,
  OutputAssembler,
  TeeSink,
  TextNormalizer,
  type TextNormalizerOptions,
} from '../../lambda/ssm/output';
import type { OutputSink } from '../../lambda/ssm/types';

const NONCE = '0123456789abcdef0123456789abcdef';
const OTHER_NONCE = 'fedcba9876543210fedcba9876543210';
const CRLF = '\r\n';

// ---------------------------------------------------------------------------------------------
// Helpers

/** Cuts `bytes` at the given offsets (any order, duplicates and out-of-range values allowed). */
function splitAt(bytes: Buffer, offsets: readonly number[]): Buffer[] {
  const cuts = [
    ...new Set(offsets.map((offset) => (bytes.length === 0 ? 0 : offset % (bytes.length + 1)))),
  ].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let previous = 0;
  for (const cut of cuts) {
    chunks.push(bytes.subarray(previous, cut));
    previous = cut;
  }
  chunks.push(bytes.subarray(previous));
  return chunks;
}

const offsetsArb = fc.array(fc.nat(), { maxLength: 12 });

function extract(chunks: readonly Buffer[], nonce = NONCE): { output: Buffer; exitCode: number | null } {
  const extractor = new ExitMarkerExtractor(nonce);
  const parts = chunks.map((chunk) => Buffer.from(extractor.push(chunk)));
  const { rest, exitCode } = extractor.finish();
  return { output: Buffer.concat([...parts, rest]), exitCode };
}

function normalize(chunks: readonly Buffer[], options: TextNormalizerOptions): string {
  const normalizer = new TextNormalizer(options);
  const parts = chunks.map((chunk) => normalizer.push(chunk));
  parts.push(normalizer.finish());
  return Buffer.concat(parts).toString('utf8');
}

function markerLine(nonce: string, exitCode: number | string, eol: string): string {
  return `${eol}${EXIT_MARKER_PREFIX}${nonce}:${exitCode}${eol}`;
}

/** A sink that records every write and whether it was ended. */
class RecordingSink implements OutputSink {
  readonly chunks: Buffer[] = [];
  ended = 0;
  write(chunk: Buffer): void {
    this.chunks.push(Buffer.from(chunk));
  }
  end(): void {
    this.ended++;
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

async function assemble(
  chunks: readonly Buffer[],
  options: { nonce: string | null; normalizeNewlines?: boolean; stripAnsi?: boolean },
): Promise<{ text: string; exitCode: number | null }> {
  const sink = new RecordingSink();
  const assembler = new OutputAssembler({ ...options, sink });
  for (const chunk of chunks) assembler.push(chunk);
  const { exitCode } = await assembler.finish();
  return { text: sink.bytes().toString('utf8'), exitCode };
}

// ---------------------------------------------------------------------------------------------

describe('ExitMarkerExtractor', () => {
  it.each([
    { name: 'CRLF (pty)', eol: CRLF },
    { name: 'LF (no pty)', eol: '\n' },
  ])('strips a final marker and the newline before it ($name)', ({ eol }) => {
    // Prepare
    const stream = Buffer.from(`hello${eol}world${eol}${markerLine(NONCE, 42, eol)}`);

    // Act
    const { output, exitCode } = extract([stream]);

    // Assess
    expect(output.toString()).toBe(`hello${eol}world${eol}`);
    expect(exitCode).toBe(42);
  });

  it.each([
    { name: 'output without a trailing newline', output: 'no newline', exitCode: 0 },
    { name: 'empty output', output: '', exitCode: 0 },
    { name: 'a bare CR at the end of the output', output: 'progress 100%\r', exitCode: 1 },
    { name: 'exit status 255', output: 'x\r\n', exitCode: 255 },
  ])('keeps exactly what the command printed: $name', ({ output, exitCode }) => {
    for (const eol of [CRLF, '\n']) {
      const stream = Buffer.from(output + markerLine(NONCE, exitCode, eol));
      expect(extract([stream])).toEqual({ output: Buffer.from(output), exitCode });
    }
  });

  it.each([
    { name: 'no marker at all', stream: `plain output${CRLF}` },
    { name: 'a marker of another run', stream: `x${markerLine(OTHER_NONCE, 0, CRLF)}` },
    { name: 'a marker followed by more output', stream: `${markerLine(NONCE, 0, CRLF)}late output` },
    { name: 'a marker followed by a newline', stream: `${markerLine(NONCE, 0, CRLF)}${CRLF}` },
    { name: 'a status above 255', stream: `x${markerLine(NONCE, 256, CRLF)}` },
    { name: 'a status with a leading zero', stream: `x${markerLine(NONCE, '07', CRLF)}` },
    { name: 'a status with four digits', stream: `x${markerLine(NONCE, 1000, CRLF)}` },
    { name: 'an empty status', stream: `x${markerLine(NONCE, '', CRLF)}` },
    { name: 'a marker without its leading newline', stream: `x${EXIT_MARKER_PREFIX}${NONCE}:0${CRLF}` },
    { name: 'a marker with mixed newlines', stream: `x\n${EXIT_MARKER_PREFIX}${NONCE}:0${CRLF}` },
    { name: 'the prefix alone', stream: `${CRLF}${EXIT_MARKER_PREFIX}${CRLF}` },
    { name: 'a truncated marker', stream: `x${CRLF}${EXIT_MARKER_PREFIX}${NONCE}:1` },
  ])('reports null and removes nothing for $name', ({ stream }) => {
    expect(extract([Buffer.from(stream)])).toEqual({ output: Buffer.from(stream), exitCode: null });
  });

  it('treats marker-like lines earlier in the output as output', () => {
    const fakes = [
      markerLine(OTHER_NONCE, 9, CRLF),
      markerLine(NONCE, 9, CRLF), // even this run's exact marker, when more output follows
      `${EXIT_MARKER_PREFIX}${CRLF}`,
      `${EXIT_MARKER_PREFIX}${NONCE}:${CRLF}`,
    ].join('tail');
    const stream = Buffer.from(`${fakes}${markerLine(NONCE, 3, CRLF)}`);
    expect(extract([stream])).toEqual({ output: Buffer.from(fakes), exitCode: 3 });
  });

  it('holds back only bytes that could still start the marker', () => {
    const extractor = new ExitMarkerExtractor(NONCE);
    expect(extractor.push(Buffer.from('plain text')).toString()).toBe('plain text');
    expect(extractor.push(Buffer.from(`line${CRLF}`)).toString()).toBe('line');
    expect(extractor.push(Buffer.from(`${EXIT_MARKER_PREFIX}`)).toString()).toBe('');
    // The held bytes turn out to be output once they stop matching the marker.
    expect(extractor.push(Buffer.from('nope')).toString()).toBe(`${CRLF}${EXIT_MARKER_PREFIX}nope`);
    expect(extractor.finish()).toEqual({ rest: Buffer.alloc(0), exitCode: null });
  });

  it('never holds back more than one marker length', () => {
    const extractor = new ExitMarkerExtractor(NONCE);
    const maxMarker = markerLine(NONCE, 255, CRLF).length;
    extractor.push(Buffer.from(`${CRLF}${EXIT_MARKER_PREFIX}${NONCE}:25`));
    extractor.push(Buffer.from('\r'));
    expect(extractor.pending.length).toBeLessThanOrEqual(maxMarker);
    expect(extractor.push(Buffer.from('x'.repeat(10))).length).toBeGreaterThan(0);
    expect(extractor.pending.length).toBe(0);
  });

  it('does not keep a reference to the caller’s buffer', () => {
    const extractor = new ExitMarkerExtractor(NONCE);
    const chunk = Buffer.from(`a${CRLF}`);
    extractor.push(chunk);
    chunk.fill(0x7a);
    expect(extractor.finish().rest.toString()).toBe(CRLF);
  });

  it('rejects a nonce that is not 8-128 letters or digits', () => {
    expect(() => new ExitMarkerExtractor('short')).toThrow(RangeError);
    expect(() => new ExitMarkerExtractor('has space in it')).toThrow(RangeError);
    expect(() => new ExitMarkerExtractor('a.b*c+d?e')).toThrow(/marker nonce/);
  });

  it('throws when used after finish', () => {
    const extractor = new ExitMarkerExtractor(NONCE);
    extractor.finish();
    expect(() => extractor.push(Buffer.from('x'))).toThrow(/after finish/);
    expect(() => extractor.finish()).toThrow(/twice/);
  });

  // Command output is built from pieces that look like markers, so the property explores the
  // extractor's partial-match logic instead of random bytes that never come close.
  const markerishPiece = fc.oneof(
    fc.constantFrom(
      '\r',
      '\n',
      CRLF,
      ':',
      '0',
      '7',
      '25',
      '255',
      '256',
      EXIT_MARKER_PREFIX,
      NONCE,
      OTHER_NONCE,
    ),
    fc.constantFrom(
      markerLine(NONCE, 0, CRLF),
      markerLine(NONCE, 12, '\n'),
      markerLine(OTHER_NONCE, 1, CRLF),
      `${EXIT_MARKER_PREFIX}${NONCE}:`,
      `${CRLF}${EXIT_MARKER_PREFIX}${NONCE.slice(0, 10)}`,
    ),
    fc.string({ unit: 'binary', maxLength: 8 }),
  );
  const commandOutputArb = fc
    .array(markerishPiece, { maxLength: 20 })
    .map((pieces) => Buffer.from(pieces.join('')));

  it('recovers exactly the command output and status under any chunking (property)', () => {
    fc.assert(
      fc.property(
        commandOutputArb,
        fc.constantFrom(CRLF, '\n'),
        fc.integer({ min: 0, max: 255 }),
        offsetsArb,
        (commandOutput, eol, exitCode, offsets) => {
          const stream = Buffer.concat([commandOutput, Buffer.from(markerLine(NONCE, exitCode, eol))]);
          expect(extract(splitAt(stream, offsets))).toEqual({ output: commandOutput, exitCode });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('gives the same result for any chunking of any stream (property)', () => {
    fc.assert(
      fc.property(commandOutputArb, offsetsArb, (stream, offsets) => {
        expect(extract(splitAt(stream, offsets))).toEqual(extract([stream]));
      }),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('TextNormalizer', () => {
  it('turns CRLF into LF and keeps a bare CR', () => {
    expect(normalize([Buffer.from('a\r\nb\rc\r\r\nd\n\re\r')], {})).toBe('a\nb\rc\r\nd\n\re\r');
  });

  it('turns a CRLF split across chunks into one LF', () => {
    expect(normalize([Buffer.from('line\r'), Buffer.from('\nnext')], {})).toBe('line\nnext');
    expect(normalize([Buffer.from('\r'), Buffer.from(''), Buffer.from('\n')], {})).toBe('\n');
    expect(normalize([Buffer.from('end\r')], {})).toBe('end\r');
  });

  it('keeps CRLF when normalizeNewlines is false', () => {
    expect(normalize([Buffer.from('a\r'), Buffer.from('\nb')], { normalizeNewlines: false })).toBe('a\r\nb');
  });

  it('decodes a character split at every offset', () => {
    const text = 'a€b日本語c😀d\u00e9';
    const bytes = Buffer.from(text);
    for (let first = 0; first <= bytes.length; first++) {
      for (let second = first; second <= bytes.length; second++) {
        expect(normalize(splitAt(bytes, [first, second]), {})).toBe(text);
      }
    }
  });

  it('replaces invalid and truncated UTF-8 with U+FFFD', () => {
    expect(normalize([Buffer.from([0x61, 0xff, 0x62])], {})).toBe('a\ufffdb');
    expect(normalize([Buffer.from([0x61, 0xe6, 0x97])], {})).toBe('a\ufffd');
    expect(normalize([Buffer.from([0x61, 0xe6]), Buffer.from([0x97])], {})).toBe('a\ufffd');
  });

  it('decodes arbitrary bytes like a one-shot decoder, under any chunking (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), offsetsArb, (raw, offsets) => {
        const bytes = Buffer.from(raw);
        const expected = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
        expect(normalize(splitAt(bytes, offsets), { normalizeNewlines: false })).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });

  const sequences: ReadonlyArray<{ name: string; sequence: string }> = [
    { name: 'SGR colour', sequence: '\x1b[1;31m' },
    { name: 'SGR reset', sequence: '\x1b[0m' },
    { name: 'CSI without parameters', sequence: '\x1b[K' },
    { name: 'cursor position', sequence: '\x1b[10;20H' },
    { name: 'private mode (hide cursor)', sequence: '\x1b[?25l' },
    { name: 'private mode (alternate screen)', sequence: '\x1b[?1049h' },
    { name: 'secondary device attributes', sequence: '\x1b[>0c' },
    { name: 'CSI with an intermediate', sequence: '\x1b[2 q' },
    { name: 'OSC title ended by BEL', sequence: '\x1b]0;my title\x07' },
    { name: 'OSC hyperlink ended by ST', sequence: '\x1b]8;;https://example.com/a?b=c\x1b\\' },
    { name: 'OSC with UTF-8 text', sequence: '\x1b]2;タイトル\x07' },
    { name: 'DCS ended by ST', sequence: '\x1bP1$r0m\x1b\\' },
    { name: 'APC ended by ST', sequence: '\x1b_payload\x1b\\' },
    { name: 'G0 charset selection', sequence: '\x1b(B' },
    { name: 'G1 charset selection', sequence: '\x1b)0' },
    { name: 'DEC screen alignment', sequence: '\x1b#8' },
    { name: 'save cursor', sequence: '\x1b7' },
    { name: 'keypad mode', sequence: '\x1b=' },
    { name: 'reverse index', sequence: '\x1bM' },
    { name: 'full reset', sequence: '\x1bc' },
  ];

  it.each(sequences)('strips $name split at every offset', ({ sequence }) => {
    const bytes = Buffer.from(`before${sequence}after\r\n`);
    for (let offset = 0; offset <= bytes.length; offset++) {
      expect(normalize(splitAt(bytes, [offset]), { stripAnsi: true })).toBe('beforeafter\n');
    }
  });

  it('keeps escape sequences when stripAnsi is false', () => {
    expect(normalize([Buffer.from('\x1b[31mred\x1b[0m')], {})).toBe('\x1b[31mred\x1b[0m');
  });

  it.each([
    { name: 'a stray ESC before a non-ASCII character', input: 'a\x1b日本', expected: 'a日本' },
    { name: 'a CSI broken by a newline', input: 'a\x1b[12\nb', expected: 'a\nb' },
    { name: 'a CSI restarted by ESC', input: 'a\x1b[12\x1b[31mb', expected: 'ab' },
    { name: 'an OSC aborted by another sequence', input: 'a\x1b]0;t\x1b[31mb', expected: 'ab' },
    { name: 'ESC ESC', input: 'a\x1b\x1b[31mb', expected: 'ab' },
    { name: 'an unfinished CSI at the end', input: 'a\x1b[12', expected: 'a' },
    { name: 'a lone ESC at the end', input: 'a\x1b', expected: 'a' },
    {
      name: 'an unterminated OSC at the end (its body is text)',
      input: 'a\x1b]not a title',
      expected: 'anot a title',
    },
    { name: 'CRLF with a sequence between CR and LF', input: 'a\r\x1b[K\nb', expected: 'a\nb' },
    { name: 'a progress bar redraw', input: '10%\r\x1b[K50%\r\x1b[K100%\n', expected: '10%\r50%\r100%\n' },
  ])('handles $name', ({ input, expected }) => {
    expect(normalize([Buffer.from(input)], { stripAnsi: true })).toBe(expected);
  });

  it('gives back the body of a control string too long to be real', () => {
    const body = 'x'.repeat(MAX_CONTROL_STRING_CHARS + 10);
    const bytes = Buffer.from(`a\x1b]${body}\x07b`);
    const expected = `a${body}\x07b`;
    expect(normalize([bytes], { stripAnsi: true })).toBe(expected);
    expect(normalize(splitAt(bytes, [5, 1000, MAX_CONTROL_STRING_CHARS + 2]), { stripAnsi: true })).toBe(
      expected,
    );
  });

  const textPiece = fc.string({ unit: 'grapheme', maxLength: 6 }).map((text) => text.replaceAll('\x1b', ''));
  const piece = fc.oneof(
    textPiece.map((text) => ({ raw: text, text })),
    fc.constantFrom(...sequences).map(({ sequence }) => ({ raw: sequence, text: '' })),
    fc.constantFrom('\r', '\n', CRLF).map((eol) => ({ raw: eol, text: eol })),
  );

  it('strips sequences and normalises newlines the same under any chunking (property)', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 25 }), offsetsArb, (pieces, offsets) => {
        const bytes = Buffer.from(pieces.map((p) => p.raw).join(''));
        const expected = pieces
          .map((p) => p.text)
          .join('')
          .replaceAll(CRLF, '\n');
        expect(normalize(splitAt(bytes, offsets), { stripAnsi: true })).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('is chunking-invariant on arbitrary bytes with every option (property)', () => {
    const noisyBytes = fc
      .array(
        fc.oneof(
          fc.uint8Array({ maxLength: 6 }).map((bytes) => Buffer.from(bytes)),
          fc
            .constantFrom('\x1b', '\x1b[', '\x1b]', '\x07', '\x1b\\', '\r', '\n', '€', ';1m')
            .map((s) => Buffer.from(s)),
        ),
        { maxLength: 20 },
      )
      .map((parts) => Buffer.concat(parts));
    fc.assert(
      fc.property(
        noisyBytes,
        offsetsArb,
        fc.boolean(),
        fc.boolean(),
        (bytes, offsets, stripAnsi, normalizeNewlines) => {
          const options = { stripAnsi, normalizeNewlines };
          expect(normalize(splitAt(bytes, offsets), options)).toBe(normalize([bytes], options));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('previews through clone() without changing its own state', () => {
    const normalizer = new TextNormalizer({ stripAnsi: true });
    expect(normalizer.push(Buffer.from('ab\x1b]0;t\r')).toString()).toBe('ab');
    const preview = normalizer.clone();
    expect(preview.finish().toString()).toBe('0;t\r');
    expect(normalizer.push(Buffer.from('\x07c\r\n')).toString()).toBe('c\n');
    expect(normalizer.finish().toString()).toBe('');
  });
});

// ---------------------------------------------------------------------------------------------

describe('BoundedOutputSink', () => {
  it('keeps everything up to the limit', () => {
    const sink = new BoundedOutputSink(10);
    sink.write(Buffer.from('hello'));
    sink.write(Buffer.from('world'));
    sink.end();
    expect(sink.text()).toBe('helloworld');
    expect({ total: sink.totalBytes, truncated: sink.truncated, omitted: sink.omittedBytes }).toEqual({
      total: 10,
      truncated: false,
      omitted: 0,
    });
  });

  it('keeps head and tail with a notice naming the omitted bytes', () => {
    const sink = new BoundedOutputSink(8);
    sink.write(Buffer.from('0123456789'));
    sink.write(Buffer.from('abcdefghij\n'));
    expect(sink.truncated).toBe(true);
    expect(sink.omittedBytes).toBe(13);
    expect(sink.text()).toBe(`0123${formatOmissionNotice(13, false)}hij\n`);
    expect(formatOmissionNotice(13, false)).toBe('\n[ecs-exec-runner: 13 bytes of output omitted]\n');
  });

  it('cuts at character boundaries and counts the cut bytes as omitted', () => {
    // 'a' + 4 × 日 (3 bytes each) + 'b' = 14 bytes.
    const aligned = new BoundedOutputSink(8);
    aligned.write(Buffer.from('a日日日日b'));
    expect(aligned.headBytes().toString()).toBe('a日');
    expect(aligned.tailBytes().toString()).toBe('日b');
    expect(aligned.omittedBytes).toBe(6);

    const misaligned = new BoundedOutputSink(6);
    misaligned.write(Buffer.from('a日日日日b'));
    // The head's last 2 bytes and the tail's first 2 are parts of a 日: both are dropped.
    expect(misaligned.headBytes().toString()).toBe('a');
    expect(misaligned.tailBytes().toString()).toBe('b');
    expect(misaligned.omittedBytes).toBe(12);
    expect(misaligned.text()).toBe(`a${formatOmissionNotice(12, false)}b`);
  });

  it('copies what it keeps', () => {
    const sink = new BoundedOutputSink(100);
    const chunk = Buffer.from('abc');
    sink.write(chunk);
    chunk.fill(0x7a);
    expect(sink.text()).toBe('abc');
  });

  it('refuses writes after end and a bad limit', () => {
    const sink = new BoundedOutputSink(4);
    sink.end();
    expect(() => sink.write(Buffer.from('x'))).toThrow(/after end/);
    expect(() => new BoundedOutputSink(-1)).toThrow(RangeError);
    expect(() => new BoundedOutputSink(1.5)).toThrow(RangeError);
  });

  it('handles a zero limit', () => {
    const sink = new BoundedOutputSink(0);
    sink.write(Buffer.from('abc'));
    expect(sink.text()).toBe(formatOmissionNotice(3, true));
    expect(sink.text()).toBe('[ecs-exec-runner: 3 bytes of output omitted]\n');
    expect(sink.omittedBytes).toBe(3);
  });

  it('keeps its invariants for any writes and limit (property)', () => {
    const chunkArb = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 20 }).map((text) => Buffer.from(text)),
      fc.uint8Array({ maxLength: 20 }).map((bytes) => Buffer.from(bytes)),
    );
    fc.assert(
      fc.property(fc.array(chunkArb, { maxLength: 20 }), fc.integer({ min: 0, max: 80 }), (chunks, limit) => {
        const sink = new BoundedOutputSink(limit);
        for (const chunk of chunks) sink.write(chunk);
        sink.end();
        const all = Buffer.concat(chunks);
        const validUtf8 = Buffer.from(all.toString('utf8')).equals(all);
        const headLimit = Math.floor(limit / 2);
        const tailLimit = limit - headLimit;
        const head = sink.headBytes();
        const tail = sink.tailBytes();

        expect(sink.totalBytes).toBe(all.length);
        expect(sink.truncated).toBe(all.length > limit);
        if (!sink.truncated) {
          expect(Buffer.concat([head, tail]).equals(all)).toBe(true);
          expect(sink.text()).toBe(all.toString('utf8'));
          expect(sink.omittedBytes).toBe(0);
          return;
        }
        expect(all.subarray(0, head.length).equals(head)).toBe(true);
        expect(all.subarray(all.length - tail.length).equals(tail)).toBe(true);
        expect(head.length).toBeLessThanOrEqual(headLimit);
        expect(head.length).toBeGreaterThanOrEqual(Math.max(0, headLimit - 3));
        expect(tail.length).toBeLessThanOrEqual(tailLimit);
        expect(tail.length).toBeGreaterThanOrEqual(Math.max(0, tailLimit - 3));
        expect(sink.omittedBytes).toBe(all.length - head.length - tail.length);
        const atLineStart = head.length === 0 || head[head.length - 1] === 0x0a;
        const notice = formatOmissionNotice(sink.omittedBytes, atLineStart);
        expect(sink.text()).toBe(head.toString('utf8') + notice + tail.toString('utf8'));
        if (validUtf8) {
          // Whole characters on both sides of the cut.
          expect(Buffer.from(head.toString('utf8')).equals(head)).toBe(true);
          expect(Buffer.from(tail.toString('utf8')).equals(tail)).toBe(true);
          expect(Buffer.byteLength(sink.text())).toBeLessThanOrEqual(limit + Buffer.byteLength(notice));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('streams 200 MB through a 256 KiB cap in bounded memory', () => {
    // Prepare: one reusable 64 KiB chunk whose bytes also encode the chunk number.
    const limit = 256 * 1024;
    const chunkBytes = 64 * 1024;
    const chunkCount = 3200; // 200 MiB
    const chunk = Buffer.alloc(chunkBytes);
    const fill = (index: number): void => {
      chunk.fill(0x61 + (index % 26));
      chunk.write(`<${index}>`, 0, 'latin1');
    };
    const sink = new BoundedOutputSink(limit);
    const arrayBuffersBefore = process.memoryUsage().arrayBuffers;

    // Act
    for (let index = 0; index < chunkCount; index++) {
      fill(index);
      sink.write(chunk);
    }
    const arrayBuffersAfter = process.memoryUsage().arrayBuffers;

    // Assess
    expect(sink.totalBytes).toBe(chunkBytes * chunkCount);
    expect(sink.omittedBytes).toBe(chunkBytes * chunkCount - limit);
    const chunksAt = (indexes: readonly number[]): Buffer =>
      Buffer.concat(
        indexes.map((index) => {
          fill(index);
          return Buffer.from(chunk);
        }),
      );
    expect(sink.headBytes().equals(chunksAt([0, 1]))).toBe(true);
    expect(sink.tailBytes().equals(chunksAt([chunkCount - 2, chunkCount - 1]))).toBe(true);
    expect(sink.text()).toContain(
      `[ecs-exec-runner: ${chunkBytes * chunkCount - limit} bytes of output omitted]`,
    );
    // Nothing per write is kept: memory does not grow with the stream (200 MB went through).
    expect(arrayBuffersAfter - arrayBuffersBefore).toBeLessThan(16 * 1024 * 1024);
  });
});

describe('TeeSink and CallbackSink', () => {
  it('writes every chunk to every sink and ends them all', () => {
    const first = new RecordingSink();
    const second = new BoundedOutputSink(100);
    const tee = new TeeSink(first, second);
    tee.write(Buffer.from('ab'));
    tee.write(Buffer.from('c'));
    tee.end();
    expect(first.bytes().toString()).toBe('abc');
    expect(first.ended).toBe(1);
    expect(second.text()).toBe('abc');
  });

  it('still feeds the other sinks when one throws, then rethrows', () => {
    const failing = new CallbackSink(() => {
      throw new Error('upload failed');
    });
    const healthy = new RecordingSink();
    const tee = new TeeSink(failing, healthy);
    expect(() => tee.write(Buffer.from('x'))).toThrow('upload failed');
    tee.end();
    expect(healthy.bytes().toString()).toBe('x');
    expect(healthy.ended).toBe(1);
  });

  it('hands the callback a copy it may keep', () => {
    const received: Buffer[] = [];
    let ended = false;
    const sink = new CallbackSink(
      (chunk) => received.push(chunk),
      () => {
        ended = true;
      },
    );
    const chunk = Buffer.from('abc');
    sink.write(chunk);
    chunk.fill(0x7a);
    sink.end();
    expect(Buffer.concat(received).toString()).toBe('abc');
    expect(ended).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------

describe('OutputAssembler', () => {
  const ptyStream = (output: string, exitCode: number): Buffer =>
    Buffer.from(output.replaceAll('\n', CRLF) + markerLine(NONCE, exitCode, CRLF));

  it('strips the marker, normalises and reports the exit code', async () => {
    const result = await assemble([ptyStream('\x1b[32mok\x1b[0m\nline 2\n', 4)], {
      nonce: NONCE,
      stripAnsi: true,
    });
    expect(result).toEqual({ text: 'ok\nline 2\n', exitCode: 4 });
  });

  it('passes everything through in raw mode', async () => {
    const stream = ptyStream('out\n', 0);
    expect(await assemble([stream], { nonce: null })).toEqual({
      text: `out\n\n${formatExitMarker(NONCE, 0)}\n`,
      exitCode: null,
    });
  });

  it('keeps CRLF and escapes when asked to', async () => {
    const stream = ptyStream('\x1b[1ma\nb', 0);
    expect(await assemble([stream], { nonce: NONCE, normalizeNewlines: false })).toEqual({
      text: '\x1b[1ma\r\nb',
      exitCode: 0,
    });
  });

  it('gives identical output and exit code for any chunking (property)', async () => {
    const outputArb = fc
      .array(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 8 }),
          fc.constantFrom(
            '\x1b[31m',
            '\x1b]0;t\x07',
            '\n',
            '\r',
            markerLine(OTHER_NONCE, 1, '\n'),
            EXIT_MARKER_PREFIX,
          ),
        ),
        { maxLength: 15 },
      )
      .map((parts) => parts.join(''));
    await fc.assert(
      fc.asyncProperty(
        outputArb,
        fc.integer({ min: 0, max: 255 }),
        offsetsArb,
        fc.boolean(),
        async (output, exitCode, offsets, stripAnsi) => {
          const stream = ptyStream(output, exitCode);
          const whole = await assemble([stream], { nonce: NONCE, stripAnsi });
          expect(await assemble(splitAt(stream, offsets), { nonce: NONCE, stripAnsi })).toEqual(whole);
          expect(whole.exitCode).toBe(exitCode);
          if (!stripAnsi) {
            // Normalising removes exactly the CRs the pty added before each LF.
            expect(whole.text).toBe(output);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('ends the sink once, and finish is idempotent', async () => {
    const sink = new RecordingSink();
    const assembler = new OutputAssembler({ nonce: NONCE, sink });
    assembler.push(ptyStream('x', 9));
    expect(await assembler.finish()).toMatchObject({ exitCode: 9, transfer: 'plain' });
    expect(await assembler.finish()).toMatchObject({ exitCode: 9 });
    expect(sink.ended).toBe(1);
    expect(() => assembler.push(Buffer.from('late'))).toThrow(/after finish/);
  });

  it('snapshots delivered and held-back output without ending anything', async () => {
    // Prepare
    const sink = new BoundedOutputSink(1024);
    const assembler = new OutputAssembler({ nonce: NONCE, sink });

    // Act: the trailing CRLF could start the marker and the € is incomplete, so both are held.
    assembler.push(Buffer.from('partial line\r\nsecond '));
    assembler.push(Buffer.from([0xe2, 0x82]));
    const midway: PartialResult = assembler.snapshot();
    const deliveredMidway = sink.text();
    assembler.push(Buffer.from([0xac, 0x0d, 0x0a]));
    const beforeEnd = assembler.snapshot();

    // Assess
    expect(midway).toEqual({ output: 'partial line\nsecond \ufffd', outputBytes: 23, truncated: false });
    expect(deliveredMidway).toBe('partial line\nsecond ');
    expect(beforeEnd).toEqual({ output: 'partial line\nsecond €\n', outputBytes: 24, truncated: false });
    expect(assembler.rawBytes).toBe(26);
    await assembler.finish();
    expect(assembler.snapshot()).toEqual({
      output: 'partial line\nsecond €\n',
      outputBytes: 24,
      truncated: false,
    });
  });

  it('snapshots through an explicit view when the sink is a tee', () => {
    const view = new BoundedOutputSink(4);
    const uploaded: Buffer[] = [];
    const sink = new TeeSink(view, new CallbackSink((chunk) => uploaded.push(chunk)));
    const assembler = new OutputAssembler({ nonce: null, sink, view });
    assembler.push(Buffer.from('abcdefgh'));
    expect(assembler.snapshot()).toEqual({
      output: `ab${formatOmissionNotice(4, false)}gh`,
      outputBytes: 8,
      truncated: true,
    });
    expect(Buffer.concat(uploaded).toString()).toBe('abcdefgh');
  });

  it('snapshots only the held-back part without a view', () => {
    const assembler = new OutputAssembler({ nonce: NONCE, sink: new RecordingSink() });
    assembler.push(Buffer.from('abc\r\n'));
    expect(assembler.snapshot()).toEqual({ output: '\n', outputBytes: 4, truncated: true });
    expect(assembler.outputBytes).toBe(3);
  });
});
