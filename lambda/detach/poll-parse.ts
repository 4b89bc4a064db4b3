/**
 * Reads what the detached-job scripts (scripts.ts) printed: report lines `ecs-exec-job key=value…`
 * and, for a poll, the encoded chunk between DATA_BEGIN and DATA_END. Pure; every malformed report
 * is a DetachReportError, which the caller treats like a dropped session (try again later).
 */
import { createDecompressor } from '../ssm/transfer/decompress';
import type { Compressor } from '../ssm/transfer/modes';
import { ChunkEncoding, DATA_BEGIN, DATA_END, REPORT_TAG } from './scripts';

export class DetachReportError extends Error {
  override readonly name = 'DetachReportError';
}

export type Report = Readonly<Record<string, string>>;

const REPORT_PREFIX = `${REPORT_TAG} `;

function parseReportLine(line: string): Report {
  const fields: Record<string, string> = {};
  for (const word of line.slice(REPORT_PREFIX.length).trim().split(/\s+/)) {
    const at = word.indexOf('=');
    if (at > 0) fields[word.slice(0, at)] = word.slice(at + 1);
    else if (word !== '') fields[word] = '';
  }
  return fields;
}

/** The report lines of a script's output, in order (data lines are not reports). */
export function reportLines(output: string): Report[] {
  return output
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.startsWith(REPORT_PREFIX))
    .map(parseReportLine);
}

/** The one report carrying `state` or `error`; a DetachReportError when there is none. */
export function finalReport(output: string): Report {
  const report = reportLines(output).find((fields) => 'state' in fields || 'error' in fields);
  if (report === undefined) {
    throw new DetachReportError(
      `the job script reported nothing (output: ${JSON.stringify(output.slice(-200))})`,
    );
  }
  return report;
}

export type StartReport =
  | {
      readonly kind: 'running';
      readonly existing: boolean;
      readonly pid: number;
      readonly pgid: number;
      readonly mode: string;
    }
  | { readonly kind: 'error'; readonly error: string; readonly directory?: string };

export function parseStartReport(output: string): StartReport {
  const report = finalReport(output);
  if (report.error !== undefined) {
    return { kind: 'error', error: report.error, ...(report.dir ? { directory: report.dir } : {}) };
  }
  const pid = wholeNumber(report, 'pid');
  // Without /proc the job's pid is its group (it is a session or group leader).
  const pgid = report.pgid === '-' ? pid : wholeNumber(report, 'pgid');
  if (report.state !== 'started' && report.state !== 'existing') {
    throw new DetachReportError(`unexpected start state "${report.state}"`);
  }
  return { kind: 'running', existing: report.state === 'existing', pid, pgid, mode: report.mode ?? '' };
}

export type PollReport =
  | { readonly kind: 'gone' }
  | { readonly kind: 'no-encoder' }
  | {
      readonly kind: 'present';
      /** The job's own process still runs. */
      readonly alive: boolean;
      /** Some process of the job's group still runs. */
      readonly groupAlive: boolean;
      /** The exit status the job recorded; null while it runs (or if it was killed). */
      readonly exitCode: number | null;
      /** Bytes in the output file when the poll looked. */
      readonly size: number;
      /** The bytes read from the requested offset, exactly. */
      readonly chunk: Buffer;
      readonly stopRequested: boolean;
    };

export async function parsePollReport(output: string): Promise<PollReport> {
  const report = finalReport(output);
  if (report.error === 'no-encoder') return { kind: 'no-encoder' };
  if (report.error !== undefined) throw new DetachReportError(`poll error "${report.error}"`);
  if (report.state === 'gone') return { kind: 'gone' };
  if (report.state !== 'present') throw new DetachReportError(`unexpected poll state "${report.state}"`);
  const count = wholeNumber(report, 'count');
  const encoding = report.enc as ChunkEncoding;
  const chunk = count === 0 ? Buffer.alloc(0) : await decodeChunk(dataBetweenMarkers(output), encoding);
  if (chunk.length !== count) {
    throw new DetachReportError(`the chunk decoded to ${chunk.length} bytes, ${count} were sent`);
  }
  return {
    kind: 'present',
    alive: report.alive === '1',
    groupAlive: report.group === '1',
    exitCode: report.rc === '-' || report.rc === undefined ? null : exitStatus(report.rc),
    size: wholeNumber(report, 'size'),
    chunk,
    stopRequested: report.stop === '1',
  };
}

export function parseStopReport(output: string): { readonly gone: boolean; readonly killed: boolean } {
  const report = finalReport(output);
  if (report.state === 'gone') return { gone: true, killed: false };
  if (report.state !== 'stopped') throw new DetachReportError(`unexpected stop state "${report.state}"`);
  return { gone: false, killed: report.killed === '1' };
}

function dataBetweenMarkers(output: string): string {
  const begin = output.indexOf(`${REPORT_PREFIX}${DATA_BEGIN}`);
  const end = output.lastIndexOf(`${REPORT_PREFIX}${DATA_END}`);
  if (begin === -1 || end === -1 || end < begin) {
    throw new DetachReportError('the chunk is incomplete (no end marker): the session was cut short');
  }
  return output.slice(output.indexOf('\n', begin) + 1, end);
}

const BASE64_TEXT = /^[A-Za-z0-9+/=\s]*$/;
const HEX_TEXT = /^[0-9a-fA-F\s]*$/;

/** Text from the pty → the original bytes. Anything outside the encoding's alphabet is an error. */
export async function decodeChunk(text: string, encoding: ChunkEncoding): Promise<Buffer> {
  switch (encoding) {
    case ChunkEncoding.ZstdBase64:
    case ChunkEncoding.GzipBase64:
    case ChunkEncoding.Base64: {
      if (!BASE64_TEXT.test(text)) throw new DetachReportError('the chunk is not base64 text');
      const bytes = Buffer.from(text.replace(/\s+/g, ''), 'base64');
      if (encoding === ChunkEncoding.Base64) return bytes;
      return decompress(bytes, encoding === ChunkEncoding.ZstdBase64 ? 'zstd' : 'gzip');
    }
    case ChunkEncoding.Hex:
      if (!HEX_TEXT.test(text)) throw new DetachReportError('the chunk is not hex text');
      return Buffer.from(text.replace(/\s+/g, ''), 'hex');
    default:
      throw new DetachReportError(`unknown chunk encoding "${String(encoding)}"`);
  }
}

/** The same decompressors as the attached run's compressed transfer (zstd: zlib or fzstd). */
async function decompress(bytes: Buffer, compressor: Compressor): Promise<Buffer> {
  const parts: Buffer[] = [];
  const decompressor = createDecompressor(compressor, (part) => parts.push(Buffer.from(part)));
  try {
    decompressor.write(bytes);
    await decompressor.end();
  } catch (err) {
    throw new DetachReportError(
      `the chunk does not decompress (${compressor}): ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return Buffer.concat(parts);
}

function wholeNumber(report: Report, key: string): number {
  const text = report[key];
  if (text === undefined || !/^\d{1,16}$/.test(text)) {
    throw new DetachReportError(`"${key}" is not a whole number: ${JSON.stringify(text)}`);
  }
  return Number(text);
}

function exitStatus(text: string): number {
  if (!/^\d{1,3}$/.test(text) || Number(text) > 255) {
    throw new DetachReportError(`the recorded exit status is not 0-255: ${JSON.stringify(text)}`);
  }
  return Number(text);
}
