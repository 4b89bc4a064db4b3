/**
 * From the agent's raw pty bytes (in sequence order) to the sink:
 *
 *   raw bytes → ExitMarkerExtractor (shell mode) → TextNormalizer → OutputSink
 *
 * The stages live in exit-marker.ts, text.ts and sinks.ts and are re-exported here.
 */
import type { PartialResult } from './errors';
import { ExitMarkerExtractor } from './exit-marker';
import { TextNormalizer } from './text';
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
  /** CRLF → LF. @default true */
  readonly normalizeNewlines?: boolean;
  /** Strip terminal escape sequences. @default false */
  readonly stripAnsi?: boolean;
  /** Receives the processed output. `end()` is called by `finish()`. */
  readonly sink: OutputSink;
  /**
   * What `snapshot()` reads the output delivered so far from.
   * @default the sink itself when it implements OutputView (BoundedOutputSink does); pass it
   * explicitly when the sink is a TeeSink around one.
   */
  readonly view?: OutputView;
}

export interface AssembledOutput {
  /** The command's exit status from the marker; null in raw mode or when the marker never came. */
  readonly exitCode: number | null;
}

const EMPTY = Buffer.alloc(0);

function isOutputView(sink: OutputSink): sink is OutputSink & OutputView {
  const candidate = sink as Partial<OutputView>;
  return typeof candidate.text === 'function' && typeof candidate.totalBytes === 'number';
}

/** Wires the stages together for one session. */
export class OutputAssembler {
  private readonly extractor: ExitMarkerExtractor | null;
  private readonly normalizer: TextNormalizer;
  private readonly sink: OutputSink;
  private readonly view: OutputView | undefined;
  private raw = 0;
  private delivered = 0;
  private result: AssembledOutput | undefined;

  constructor(options: OutputAssemblerOptions) {
    this.extractor = options.nonce === null ? null : new ExitMarkerExtractor(options.nonce);
    this.normalizer = new TextNormalizer({
      normalizeNewlines: options.normalizeNewlines ?? true,
      stripAnsi: options.stripAnsi ?? false,
    });
    this.sink = options.sink;
    this.view = options.view ?? (isOutputView(options.sink) ? options.sink : undefined);
  }

  /** Raw bytes pushed so far (what the agent sent). */
  /** The stream so far ends with the exit marker (always false in raw mode). */
  get exitMarkerSeen(): boolean {
    return this.extractor?.endsWithMarker ?? false;
  }

  get rawBytes(): number {
    return this.raw;
  }

  /** Processed bytes handed to the sink so far. */
  get outputBytes(): number {
    return this.delivered;
  }

  /** The next raw output bytes, in sequence order. */
  push(rawBytes: Buffer): void {
    if (this.result !== undefined) {
      throw new Error('OutputAssembler.push after finish');
    }
    this.raw += rawBytes.length;
    const safe = this.extractor === null ? rawBytes : this.extractor.push(rawBytes);
    this.deliver(this.normalizer.push(safe));
  }

  /**
   * Ends the stream: strips the marker if the output ends with it, flushes everything held back
   * and ends the sink. Also the way to close the output of a failed session; calling it again
   * returns the same result.
   */
  finish(): AssembledOutput {
    if (this.result !== undefined) {
      return this.result;
    }
    const { rest, exitCode } =
      this.extractor === null ? { rest: EMPTY, exitCode: null } : this.extractor.finish();
    this.deliver(this.normalizer.push(rest));
    this.deliver(this.normalizer.finish());
    this.result = { exitCode };
    this.sink.end();
    return this.result;
  }

  /**
   * The output so far, for attaching to a SessionError, without ending anything: what the view
   * holds plus what the pipeline still holds back, decoded as if the stream ended now (a marker
   * is not stripped, since an unfinished session has none that counts). `outputBytes` counts
   * processed bytes, like OutputView.totalBytes. Without a view the delivered text is unknown, so
   * only the held-back part is returned and `truncated` is true once anything was delivered.
   */
  snapshot(): PartialResult {
    let pending = EMPTY;
    if (this.result === undefined) {
      const preview = this.normalizer.clone();
      pending = Buffer.concat([preview.push(this.extractor?.pending ?? EMPTY), preview.finish()]);
    }
    const pendingText = pending.toString('utf8');
    if (this.view === undefined) {
      return {
        output: pendingText,
        outputBytes: this.delivered + pending.length,
        truncated: this.delivered > 0,
      };
    }
    return {
      output: this.view.text() + pendingText,
      outputBytes: this.delivered + pending.length,
      truncated: this.view.truncated,
    };
  }

  private deliver(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.delivered += bytes.length;
    this.sink.write(bytes);
  }
}
