/**
 * A one-line progress indicator with the elapsed time, drawn on stderr only when stderr is a
 * terminal: piped or redirected output stays free of control characters, and stdout (the
 * command's output) is never touched.
 */

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'] as const;
/** Redraws per second: smooth enough, cheap enough. */
const FRAME_INTERVAL_MS = 100;
const MS_PER_SECOND = 1000;
/** Carriage return + "erase the whole line". */
const CLEAR_LINE = '\r\u001b[2K';

export interface SpinnerStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export class Spinner {
  private timer: NodeJS.Timeout | undefined;
  private frame = 0;
  private startedAt = 0;
  private status = '';

  constructor(
    private readonly stream: SpinnerStream,
    private readonly label: string,
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  start(): void {
    if (!this.enabled || this.timer !== undefined) return;
    this.startedAt = this.now();
    this.render();
    this.timer = setInterval(() => this.render(), FRAME_INTERVAL_MS);
    // A spinner never keeps the process alive.
    this.timer.unref();
  }

  /** The execution status shown next to the label (RUNNING, …). */
  update(status: string): void {
    this.status = status;
  }

  /** The line as drawn now (exposed for tests). */
  line(): string {
    const elapsed = ((this.now() - this.startedAt) / MS_PER_SECOND).toFixed(1);
    const frame = FRAMES[this.frame % FRAMES.length];
    return `${frame} ${this.label}${this.status ? ` ${this.status}` : ''} ${elapsed}s`;
  }

  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.stream.write(CLEAR_LINE);
  }

  private render(): void {
    this.stream.write(`${CLEAR_LINE}${this.line()}`);
    this.frame += 1;
  }
}
