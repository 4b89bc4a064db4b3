/** Where the CLI writes: process.stdout / process.stderr, or a test's collector. */
export interface OutputStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}
