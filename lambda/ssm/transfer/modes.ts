/**
 * How the command's output travels from the container to the client.
 *
 * The agent reads the pty at most 1 KiB per frame with a pause after each (~0.65 MB/s whatever
 * the client does), and the pty rewrites bytes (LF → CRLF). Compressing in the container and
 * sending base64 text, which the pty leaves alone, is both faster and exact.
 */

/** The compressors the wrapper looks for, best ratio first (measured: xz ≈ zstd ≫ gzip). */
export const COMPRESSORS = ['zstd', 'xz', 'gzip'] as const;
export type Compressor = (typeof COMPRESSORS)[number];

/** The path that actually ran: a compressor + base64, or the plain pty bytes. */
export type Transfer = Compressor | 'plain';
export const TRANSFERS: readonly Transfer[] = [...COMPRESSORS, 'plain'];

/** What a caller asks for: `auto` probes for the compressors in order and falls back to plain. */
export type TransferRequest = 'auto' | Transfer;
export const TRANSFER_REQUESTS: readonly TransferRequest[] = ['auto', ...TRANSFERS];
export const DEFAULT_TRANSFER: TransferRequest = 'auto';

/**
 * The compressor's command line in the container. The agent's ~0.65 MB/s of base64 is the limit,
 * so each level is the smallest output whose CPU cost stays far below that pace: zstd -3 and xz -1
 * (as measured through the real agent), gzip -6 (its default: 3-4% smaller than -1 on `seq`
 * output, at ~30 MB/s of input, still >10x what the wire takes after compression).
 * `-c` writes to stdout; zstd's `-q` keeps it from printing progress on the pty.
 */
export const COMPRESS_COMMANDS: Readonly<Record<Compressor, string>> = {
  zstd: 'zstd -q -3 -c',
  xz: 'xz -1 -c',
  gzip: 'gzip -6 -c',
};

export function isTransfer(value: string): value is Transfer {
  return (TRANSFERS as readonly string[]).includes(value);
}

export function isTransferRequest(value: unknown): value is TransferRequest {
  return typeof value === 'string' && (TRANSFER_REQUESTS as readonly string[]).includes(value);
}
