/**
 * From the agent's raw pty bytes (in sequence order) to the sinks:
 *
 *   raw bytes → HeaderReader (shell mode) → ExitMarkerExtractor (shell mode) → body → sinks
 *
 * The header says which body the wrapper's output needs (transfer/bodies.ts): plain text through
 * the TextNormalizer, or base64 of compressed bytes, decoded to the command's exact bytes. Raw
 * mode has neither header nor marker and a plain body.
 */
import type { PartialResult } from './errors';
import { ExitMarkerExtractor } from './exit-marker';
import { CompressedBody, type OutputBody, PlainBody } from './transfer/bodies';
import { HeaderReader, type HeaderStatus } from './transfer/header';
import type { Transfer } from './transfer/modes';
import type { OutputSink, OutputView } from './types';

export {
  EXIT_MARKER_PREFIX,
  ExitMarkerExtractor,
  type ExitMarkerResult,
  formatExitMarker,
} from './exit-marker';
export { BoundedOutputSink, CallbackSink, formatOmissionNotice, TeeSink } from './sinks';
export { MAX_CONTROL_STRING_CHARS, TextNormalizer, type TextNormalizerOptions } from './text';

export interface OutputAssemblerOptions {
  /** The run's marker nonce (shell mode), or null for raw mode, where nothing is stripped and no exit code exists. */
  readonly nonce: string | null;
  /** CRLF → LF on the plain path (the pty adds the CRs). @default true */
  readonly normalizeNewlines?: boolean;
  /** Strip terminal escape sequences from the text. @default false */
  readonly stripAnsi?: boolean;
  /** Receives the processed text. `end()` is called by `finish()`. */
  readonly sink: OutputSink;
  /**
   * Receives the full output: the command's exact bytes on a compressed path, the processed text
   * on the plain path. `end()` is called by `finish()`.
   */
  readonly fullSink?: OutputSink;
  /**
   * What `snapshot()` reads the output delivered so far from.
   * @default the sink itself when it implements OutputView (BoundedOutputSink does)
   */
  readonly view?: OutputView;
  /** Called once, when the wrapper's header arrived (or proved absent). */
  readonly onHeader?: (status: HeaderStatus) => void;
}

export interface AssembledOutput {
  /** The command's exit status from the marker; null in raw mode or when the marker never came. */
  readonly exitCode: number | null;
  /** The path the output came by. */
  readonly transfer: Transfer;
  /** The header's verdict; `absent` in raw mode. */
  readonly header: HeaderStatus;
  /** Bytes given to the full sink. */
  readonly fullBytes: number;
  /** Hex SHA-256 of the bytes given to the full sink. */
  readonly outputSha256: string;
  /** Set when a compressed stream could not be decoded to its end. */
  readonly decodeError?: Error;
}

const EMPTY: Buffer = Buffer.alloc(0);

function isOutputView(sink: OutputSink): sink is OutputSink & OutputView {
  const candidate = sink as Partial<OutputView>;
  return typeof candidate.text === 'function' && typeof candidate.totalBytes === 'number';
}

/** Wires the stages together for one session. */
export class OutputAssembler {
  private readonly header: HeaderReader | null;
  private readonly extractor: ExitMarkerExtractor | null;
  private readonly view: OutputView | undefined;
  private body: OutputBody | null = null;
  private transfer: Transfer = 'plain';
  private raw = 0;
  private textBytes = 0;
  private finished = false;
  private result: Promise<AssembledOutput> | undefined;
  private readonly textSink: OutputSink;

  constructor(private readonly options: OutputAssemblerOptions) {
    this.header = options.nonce === null ? null : new HeaderReader(options.nonce);
    this.extractor = options.nonce === null ? null : new ExitMarkerExtractor(options.nonce);
    this.view = options.view ?? (isOutputView(options.sink) ? options.sink : undefined);
    this.textSink = {
      write: (chunk) => {
        this.textBytes += chunk.length;
        options.sink.write(chunk);
      },
      end: () => options.sink.end(),
    };
    if (this.header === null) this.body = this.newBody({ kind: 'absent' });
  }

  /** The stream so far ends with the exit marker (always false in raw mode). */
  get exitMarkerSeen(): boolean {
    return this.extractor?.endsWithMarker ?? false;
  }

  /** Raw bytes pushed so far (what the agent sent). */
  get rawBytes(): number {
    return this.raw;
  }

  /** Processed text bytes handed to the sink so far. */
  get outputBytes(): number {
    return this.textBytes;
  }

  /** The header's verdict so far (`absent` in raw mode). */
  get headerStatus(): HeaderStatus {
    return this.header?.status ?? { kind: 'absent' };
  }

  /** The next raw output bytes, in sequence order. */
  push(rawBytes: Buffer): void {
    if (this.finished) {
      throw new Error('OutputAssembler.push after finish');
    }
    this.raw += rawBytes.length;
    let bytes = rawBytes;
    if (this.body === null && this.header !== null) {
      bytes = this.header.push(rawBytes);
      if (this.header.status.kind === 'pending') return;
      this.body = this.newBody(this.header.status);
    }
    this.forward(bytes);
  }

  /**
   * Ends the stream: strips the marker if the output ends with it, flushes everything held back
   * and ends the sinks. Also the way to close the output of a failed session; calling it again
   * returns the same result.
   */
  finish(): Promise<AssembledOutput> {
    this.result ??= this.conclude();
    return this.result;
  }

  /**
   * The output so far, for attaching to a SessionError, without ending anything: what the view
   * holds plus what the plain pipeline still holds back, decoded as if the stream ended now (a
   * marker is not stripped, since an unfinished session has none that counts). Without a view the
   * delivered text is unknown, so only the held-back part is returned and `truncated` is true
   * once anything was delivered.
   */
  snapshot(): PartialResult {
    let pending: Buffer = EMPTY;
    if (!this.finished) {
      pending =
        this.body === null
          ? (this.header?.pending ?? EMPTY)
          : this.body instanceof PlainBody
            ? this.previewPlain(this.body)
            : this.body.pendingText();
    }
    const pendingText = pending.toString('utf8');
    if (this.view === undefined) {
      return {
        output: pendingText,
        outputBytes: this.textBytes + pending.length,
        truncated: this.textBytes > 0,
      };
    }
    return {
      output: this.view.text() + pendingText,
      outputBytes: this.textBytes + pending.length,
      truncated: this.view.truncated,
    };
  }

  private previewPlain(body: PlainBody): Buffer {
    return body.previewWith(this.extractor?.pending ?? EMPTY);
  }

  private forward(bytes: Buffer): void {
    const safe = this.extractor === null ? bytes : this.extractor.push(bytes);
    if (safe.length > 0) this.body?.write(safe);
  }

  private async conclude(): Promise<AssembledOutput> {
    this.finished = true;
    if (this.body === null) {
      const held = this.header?.finish() ?? EMPTY;
      this.body = this.newBody(this.headerStatus);
      if (held.length > 0) this.forward(held);
    }
    const body = this.body;
    const { rest, exitCode } =
      this.extractor === null ? { rest: EMPTY, exitCode: null } : this.extractor.finish();
    if (rest.length > 0) body.write(rest);
    let decodeError: Error | undefined;
    try {
      await body.end();
    } catch (error) {
      decodeError = error instanceof Error ? error : new Error(String(error));
    }
    this.textSink.end();
    this.options.fullSink?.end();
    return {
      exitCode,
      transfer: this.transfer,
      header: this.headerStatus,
      fullBytes: body.fullBytes,
      outputSha256: body.sha256(),
      ...(decodeError !== undefined ? { decodeError } : {}),
    };
  }

  private newBody(status: HeaderStatus): OutputBody {
    this.options.onHeader?.(status);
    const targets = {
      text: this.textSink,
      ...(this.options.fullSink !== undefined ? { full: this.options.fullSink } : {}),
    };
    const stripAnsi = this.options.stripAnsi ?? false;
    if (status.kind === 'ready' && status.transfer !== 'plain') {
      this.transfer = status.transfer;
      // The exact bytes have no pty CRs to undo; the text keeps the command's own newlines.
      return new CompressedBody(status.transfer, targets, { normalizeNewlines: false, stripAnsi });
    }
    return new PlainBody(targets, { normalizeNewlines: this.options.normalizeNewlines ?? true, stripAnsi });
  }
}
