import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { OutputAssembler } from '../../lambda/ssm/output';
import { BoundedOutputSink, CallbackSink } from '../../lambda/ssm/sinks';
import { Base64StreamDecoder } from '../../lambda/ssm/transfer/base64-stream';
import { createDecompressor } from '../../lambda/ssm/transfer/decompress';
import { HEADER_PREFIX, HeaderReader } from '../../lambda/ssm/transfer/header';
import { COMPRESS_COMMANDS, COMPRESSORS, type Compressor } from '../../lambda/ssm/transfer/modes';

const NONCE = '0123456789abcdef0123456789abcdef';
const header = (status: string, eol = '\r\n'): string => `${HEADER_PREFIX}${NONCE}:${status}${eol}`;

function splitAt(bytes: Buffer, offsets: readonly number[]): Buffer[] {
  const cuts = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let start = 0;
  for (const cut of cuts) {
    parts.push(bytes.subarray(start, cut));
    start = cut;
  }
  parts.push(bytes.subarray(start));
  return parts;
}

/** What the wrapper's `<compressor> | base64` would print, made with the same command line. */
function compressed(compressor: Compressor, bytes: Buffer): Buffer {
  const [file, ...args] = COMPRESS_COMMANDS[compressor].split(' ');
  return execFileSync(file as string, args, { input: bytes });
}

async function decompress(compressor: Compressor, chunks: readonly Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  const decoder = createDecompressor(compressor, (chunk) => out.push(chunk));
  for (const chunk of chunks) decoder.write(chunk);
  await decoder.end();
  return Buffer.concat(out);
}

describe('HeaderReader', () => {
  it.each(['zstd', 'xz', 'gzip', 'plain'])(
    'reads the %s header in any split and passes the rest on',
    (status) => {
      const stream = Buffer.from(`${header(status)}body\r\n`);
      for (let cut = 0; cut <= stream.length; cut++) {
        const reader = new HeaderReader(NONCE);
        const rest = Buffer.concat([reader.push(stream.subarray(0, cut)), reader.push(stream.subarray(cut))]);
        expect(reader.status).toEqual({ kind: 'ready', transfer: status });
        expect(rest.toString()).toBe('body\r\n');
      }
    },
  );

  it('reports a refusal with its reason', () => {
    const reader = new HeaderReader(NONCE);
    reader.push(Buffer.from(header('!workdir', '\n')));
    expect(reader.status).toMatchObject({ kind: 'refused', failure: 'workdir' });
  });

  it.each([
    ['output that is not a header', 'hello\n'],
    ["another run's header", `${HEADER_PREFIX}fedcba9876543210fedcba9876543210:zstd\n`],
    ['an unknown status', header('brotli')],
    ['an inherited property name as a reason', header('!constructor')],
  ])('treats %s as plain output', (_name, text) => {
    const reader = new HeaderReader(NONCE);
    const rest = Buffer.concat([reader.push(Buffer.from(text)), reader.finish()]);
    expect(reader.status).toEqual({ kind: 'absent' });
    if (!text.startsWith(HEADER_PREFIX)) expect(rest.toString()).toBe(text);
  });
});

describe('Base64StreamDecoder', () => {
  it('decodes any bytes with any line breaks in any chunking (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        fc.integer({ min: 1, max: 80 }),
        fc.constantFrom('\n', '\r\n'),
        fc.array(fc.nat(), { maxLength: 8 }),
        (data, width, eol, offsets) => {
          const text = Buffer.from(data).toString('base64');
          const lines = text.match(new RegExp(`.{1,${width}}`, 'g')) ?? [];
          const wrapped = Buffer.from(lines.map((line) => `${line}${eol}`).join(''));
          const decoder = new Base64StreamDecoder();
          const decoded = Buffer.concat([
            ...splitAt(wrapped, offsets).map((c) => decoder.push(c)),
            decoder.finish(),
          ]);
          expect(decoded.equals(Buffer.from(data))).toBe(true);
          expect(decoder.strayBytes).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('counts bytes that are neither base64 nor line breaks', () => {
    const decoder = new Base64StreamDecoder();
    decoder.push(Buffer.from('YW^Jj\r\n'));
    expect(decoder.strayBytes).toBe(1);
  });
});

describe.each(COMPRESSORS)('%s decompressor', (compressor) => {
  const data = Buffer.concat([randomBytes(50_000), Buffer.from('x'.repeat(200_000)), randomBytes(10)]);

  it('restores the exact bytes from frame-sized pieces', async () => {
    const packed = compressed(compressor, data);
    const pieces = splitAt(
      packed,
      Array.from({ length: Math.floor(packed.length / 700) }, (_, i) => (i + 1) * 700),
    );
    expect((await decompress(compressor, pieces)).equals(data)).toBe(true);
  });

  it('rejects input that is not in its format', async () => {
    const packed = Buffer.from(compressed(compressor, data));
    packed.fill(0x55, 0, 8);
    await expect(decompress(compressor, [packed])).rejects.toThrow();
  });
});

describe('OutputAssembler on a compressed transfer', () => {
  const exact = Buffer.from('a\r\nb\0\x1b[1mc\x1b[0m\xff\n', 'latin1');

  async function assemble(body: Buffer) {
    const view = new BoundedOutputSink(1024);
    const full: Buffer[] = [];
    const assembler = new OutputAssembler({
      nonce: NONCE,
      stripAnsi: true,
      sink: view,
      fullSink: new CallbackSink((chunk) => full.push(chunk)),
    });
    const stream = Buffer.concat([
      Buffer.from(header('gzip', '\n')),
      body,
      Buffer.from(`\n__ECS_EXEC_RUNNER_RC_${NONCE}:7\n`),
    ]);
    for (const chunk of splitAt(stream, [3, 50, 51, 90])) assembler.push(chunk);
    return { assembled: await assembler.finish(), text: view.text(), full: Buffer.concat(full) };
  }

  it('gives the full sink the exact bytes and the view the stripped text', async () => {
    const { assembled, text, full } = await assemble(
      Buffer.from(compressed('gzip', exact).toString('base64')),
    );
    expect(assembled).toMatchObject({ exitCode: 7, transfer: 'gzip', fullBytes: exact.length });
    expect(full.equals(exact)).toBe(true);
    expect(text).toBe('a\r\nb\0c\ufffd\n');
  });

  it('reports a stream that cannot be decoded', async () => {
    const { assembled } = await assemble(Buffer.from('bm90IGd6aXA=\n'));
    expect(assembled.decodeError).toBeInstanceOf(Error);
  });

  it('reports bytes that something else wrote to the pty among the base64', async () => {
    const base64 = compressed('gzip', exact).toString('base64');
    const { assembled } = await assemble(Buffer.from(`${base64.slice(0, 8)}!?${base64.slice(8)}`));
    expect(assembled.decodeError?.message).toMatch(/2 bytes that are not base64/);
  });
});
