/**
 * Shell scripts of a detached job: start, poll, stop and clean up. Pure string builders; each script
 * runs as the "command" of one ordinary exec session (lambda/ssm run(), shell mode, no tty), prints
 * its findings on lines starting with REPORT_TAG and never exits non-zero on purpose, so the
 * session's own exit code stays the wrapper's business.
 *
 * Files in the job directory (mode 0700, files 0600):
 *   stdin   the event's stdin (empty without one), read by the job
 *   out     everything the job writes to stdout and stderr, raw bytes, no pty
 *   pid     "<pid> <pgid> <starttime>" written by the job once it has left the exec session
 *   exit    its exit status, written (then renamed into place) after `out` is complete
 *   stop    present once a stop (timeout or cancel) was asked for
 *
 * Only POSIX sh plus `tail -c`, `head -c`, `base64` (or `od`), optionally `zstd` or `gzip` and `setsid`
 * (else `nohup`): what busybox, Debian/Ubuntu, Alpine and Amazon Linux images have.
 */
import { quoteShellWord } from '../ssm/command';

/** Every line a script reports starts with this word; nothing else in its output does. */
export const REPORT_TAG = 'ecs-exec-job';
export const DEFAULT_JOBS_DIRECTORY = '/tmp/ecs-exec-runner';
/** How long the start waits for the job to prove it left the exec session (writes its pid file). */
export const START_PROOF_WAIT_TENTHS = 300;
/** Default grace between TERM and KILL when a job is stopped. */
export const DEFAULT_STOP_GRACE_SECONDS = 10;
export const JobFile = {
  Stdin: 'stdin',
  Output: 'out',
  Pid: 'pid',
  Exit: 'exit',
  Stop: 'stop',
} as const;

/** How a poll's bytes travel through the pty: text only, so the pty cannot alter a byte. */
export const ChunkEncoding = {
  ZstdBase64: 'zstd+base64',
  GzipBase64: 'gzip+base64',
  Base64: 'base64',
  Hex: 'hex',
} as const;
export type ChunkEncoding = (typeof ChunkEncoding)[keyof typeof ChunkEncoding];

const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export function assertJobId(jobId: string): void {
  if (!JOB_ID_PATTERN.test(jobId))
    throw new RangeError(`job id must match ${JOB_ID_PATTERN}, got "${jobId}"`);
}

export function jobDirectory(jobsDirectory: string, jobId: string): string {
  assertJobId(jobId);
  return `${jobsDirectory.replace(/\/+$/, '') || '/'}/${jobId}`.replace(/^\/\//, '/');
}

/** `say key=value…`: one report line. */
const SAY = `say() { printf '%s %s\\n' ${REPORT_TAG} "$*"; }`;

/**
 * Fields 5 (pgrp) and 22 (start time) of /proc/<pid>/stat, for "<pid> <pgid> <starttime>". The comm
 * field may hold spaces, so parsing starts after its closing parenthesis. Without /proc: "- -".
 */
const PROC_IDENTITY = `proc_identity() { s=; read -r s < "/proc/$1/stat" 2>/dev/null || { echo "- -"; return; }; set -- \${s##*) }; shift 2; g=$1; shift 16; echo "$g $2"; }`;

/**
 * The job itself, run by `setsid sh -c JOB_RUNNER ecs-exec-job <dir> <command>`. It records its
 * identity only once it is a session leader (or immune to SIGHUP), so the pid file is the proof the
 * start waits for. A TERM to the group reaches the command; the runner itself survives it long
 * enough to record the command's status (a caught signal, unlike an ignored one, is not inherited).
 */
const JOB_RUNNER = [
  'd=$1',
  PROC_IDENTITY,
  `trap 'true' TERM`,
  `printf '%s %s\\n' "$$" "$(proc_identity $$)" > "$d/${JobFile.Pid}.tmp" && mv "$d/${JobFile.Pid}.tmp" "$d/${JobFile.Pid}"`,
  `/bin/sh -c "$2" < "$d/${JobFile.Stdin}" > "$d/${JobFile.Output}" 2>&1`,
  'rc=$?',
  `printf '%s\\n' "$rc" > "$d/${JobFile.Exit}.tmp" && mv "$d/${JobFile.Exit}.tmp" "$d/${JobFile.Exit}"`,
].join('\n');

export interface StartScriptOptions {
  readonly jobsDirectory: string;
  readonly jobId: string;
  readonly command: string;
}

/**
 * Creates the job directory (a retried start finds it and reports the job already there), copies
 * the script's own stdin (the event's stdin, delivered the normal way) into it, launches the job
 * in a session of its own and waits until the job has written its pid file: only then has it
 * provably left the exec session, whose end sends SIGHUP to everything still in it.
 *
 * Reports `state=started|existing pid=… pgid=… mode=setsid|nohup`, or `error=… dir=…`.
 */
export function buildStartScript(options: StartScriptOptions): string {
  const dir = jobDirectory(options.jobsDirectory, options.jobId);
  return [
    SAY,
    'umask 077',
    `base=${quoteShellWord(options.jobsDirectory)}; d=${quoteShellWord(dir)}`,
    `cmd=${quoteShellWord(options.command)}`,
    `runner=${quoteShellWord(JOB_RUNNER)}`,
    // Probe the writable directory first: a read-only root filesystem is the usual culprit.
    `mkdir -p "$base" 2>/dev/null; if ! [ -d "$base" ] || ! [ -w "$base" ]; then cat >/dev/null; say "error=not-writable dir=$base"; exit 0; fi`,
    'if mkdir "$d" 2>/dev/null; then',
    `  if ! cat > "$d/${JobFile.Stdin}" || ! : > "$d/${JobFile.Output}"; then say "error=not-writable dir=$d"; exit 0; fi`,
    '  state=started',
    '  if command -v setsid >/dev/null 2>&1; then mode=setsid',
    '    setsid /bin/sh -c "$runner" ecs-exec-job "$d" "$cmd" </dev/null >/dev/null 2>&1 &',
    '  elif command -v nohup >/dev/null 2>&1; then mode=nohup',
    // Job control puts the background job in a process group of its own; nohup keeps SIGHUP off it.
    '    set -m 2>/dev/null',
    '    nohup /bin/sh -c "$runner" ecs-exec-job "$d" "$cmd" </dev/null >/dev/null 2>&1 &',
    '    set +m 2>/dev/null',
    `  else rm -rf "$d"; say "error=no-launcher"; exit 0; fi`,
    '  printf "%s\\n" "$mode" > "$d/mode"',
    'else',
    `  cat >/dev/null; if ! [ -d "$d" ]; then say "error=not-writable dir=$d"; exit 0; fi`,
    '  state=existing; mode=$(cat "$d/mode" 2>/dev/null)',
    'fi',
    // Fractional sleeps are not everywhere (old busybox): fall back to whole seconds.
    `i=0; while ! [ -s "$d/${JobFile.Pid}" ] && [ $i -lt ${START_PROOF_WAIT_TENTHS} ]; do sleep 0.1 2>/dev/null || { sleep 1; i=$((i+9)); }; i=$((i+1)); done`,
    `if ! [ -s "$d/${JobFile.Pid}" ]; then say "error=no-proof dir=$d"; exit 0; fi`,
    `read -r pid pgid start < "$d/${JobFile.Pid}"`,
    'say "state=$state pid=$pid pgid=$pgid mode=$mode"',
  ].join('\n');
}

export interface PollScriptOptions {
  readonly directory: string;
  /** Bytes of `out` already collected. */
  readonly offset: number;
  /** At most this many bytes are returned. */
  readonly maxBytes: number;
}

/** Marks the start and end of the encoded chunk. */
export const DATA_BEGIN = 'data-begin';
export const DATA_END = 'data-end';

/**
 * Reports liveness, the exit status and the output size, in that order (the job writes `exit` only
 * after `out` is complete, and exits only after writing `exit`; so "not alive and no exit" means
 * lost, and "exit present" means the size read next is final), then up to `maxBytes` of `out` from
 * `offset`, encoded as text.
 *
 * Reports `state=present alive=0|1 group=0|1 rc=…|- size=… count=… enc=… stop=0|1`, the data lines,
 * or `state=gone` / `error=no-encoder`.
 */
export function buildPollScript(options: PollScriptOptions): string {
  assertByteCount('offset', options.offset);
  assertByteCount('maxBytes', options.maxBytes);
  return [
    SAY,
    PROC_IDENTITY,
    `d=${quoteShellWord(options.directory)}; off=${options.offset}; max=${options.maxBytes}`,
    `if ! [ -f "$d/${JobFile.Output}" ] || ! [ -s "$d/${JobFile.Pid}" ]; then say "state=gone"; exit 0; fi`,
    `read -r pid pgid start < "$d/${JobFile.Pid}"`,
    'alive=0; if kill -0 "$pid" 2>/dev/null; then alive=1',
    // The same pid with another start time is some other process: the job is gone.
    '  if [ "$start" != "-" ]; then set -- $(proc_identity "$pid"); [ "$2" = "-" ] || [ "$2" = "$start" ] || alive=0; fi',
    'fi',
    'group=0; kill -0 -"$pgid" 2>/dev/null && group=1',
    `rc=-; [ -f "$d/${JobFile.Exit}" ] && rc=$(cat "$d/${JobFile.Exit}")`,
    `stop=0; [ -f "$d/${JobFile.Stop}" ] && stop=1`,
    `size=$(wc -c < "$d/${JobFile.Output}"); size=$((size+0))`,
    'count=$((size - off)); [ "$count" -gt "$max" ] && count=$max; [ "$count" -lt 0 ] && count=0',
    // The best ratio first (zstd ≫ gzip on text): fewer bytes through the agent's slow pty reads.
    `if command -v base64 >/dev/null 2>&1; then if command -v zstd >/dev/null 2>&1; then enc=${ChunkEncoding.ZstdBase64}; elif command -v gzip >/dev/null 2>&1; then enc=${ChunkEncoding.GzipBase64}; else enc=${ChunkEncoding.Base64}; fi`,
    `elif command -v od >/dev/null 2>&1; then enc=${ChunkEncoding.Hex}`,
    'else say "error=no-encoder"; exit 0; fi',
    'say "state=present alive=$alive group=$group rc=$rc size=$size count=$count enc=$enc stop=$stop"',
    '[ "$count" -gt 0 ] || exit 0',
    `say ${DATA_BEGIN}`,
    `read_chunk() { tail -c +$((off + 1)) "$d/${JobFile.Output}" | head -c "$count"; }`,
    'case $enc in',
    `  ${ChunkEncoding.ZstdBase64}) read_chunk | zstd -q -3 -c | base64 ;;`,
    `  ${ChunkEncoding.GzipBase64}) read_chunk | gzip -6 -c | base64 ;;`,
    `  ${ChunkEncoding.Base64}) read_chunk | base64 ;;`,
    `  ${ChunkEncoding.Hex}) read_chunk | od -An -v -tx1 ;;`,
    'esac',
    `say ${DATA_END}`,
  ].join('\n');
}

export interface StopScriptOptions {
  readonly directory: string;
  /** Seconds between TERM and KILL. */
  readonly graceSeconds: number;
}

/**
 * TERM to the job's process group, up to `graceSeconds` for it to go, then KILL. Leaves a `stop`
 * file so a later poll knows the job was stopped. Reports `state=stopped killed=0|1`, `state=gone`.
 */
export function buildStopScript(options: StopScriptOptions): string {
  assertByteCount('graceSeconds', options.graceSeconds);
  return [
    SAY,
    `d=${quoteShellWord(options.directory)}; grace=${options.graceSeconds}`,
    `if ! [ -s "$d/${JobFile.Pid}" ]; then say "state=gone"; exit 0; fi`,
    `read -r pid pgid start < "$d/${JobFile.Pid}"`,
    `: > "$d/${JobFile.Stop}"`,
    'kill -TERM -"$pgid" 2>/dev/null',
    'i=0; while kill -0 -"$pgid" 2>/dev/null && [ $i -lt $((grace * 10)) ]; do sleep 0.1 2>/dev/null || { sleep 1; i=$((i+9)); }; i=$((i+1)); done',
    'killed=0; if kill -0 -"$pgid" 2>/dev/null; then kill -KILL -"$pgid" 2>/dev/null; killed=1; fi',
    'say "state=stopped killed=$killed"',
  ].join('\n');
}

/** Removes the job directory. Reports `state=removed`. */
export function buildCleanupScript(directory: string): string {
  return [SAY, `rm -rf ${quoteShellWord(directory)}`, 'say "state=removed"'].join('\n');
}

function assertByteCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a whole number >= 0, got ${value}`);
  }
}
