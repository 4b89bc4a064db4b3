/**
 * The AWS side of a detached job's ports: scripts run through the ordinary exec path (ECS
 * ExecuteCommand + the data-channel client's run(), shell mode, no tty, stdin the normal way), the
 * task is checked with DescribeTasks, and output chunks live in S3 until they are joined.
 */
import { PassThrough } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AwsClients } from '../aws/clients';
import { outputContentType } from '../aws/content-type';
import { type ResolvedTarget, resolveTarget } from '../aws/target';
import { startTargetSession, targetSessionPlumbing } from '../aws/target-session';
import type { ExecRequest } from '../event';
import { MIN_COMMAND_TIME_MS, mapSessionError, TERMINAL_SIZE } from '../service';
import { CallbackSink } from '../ssm/output';
import { run } from '../ssm/run';
import type { SessionLogger } from '../ssm/types';
import type { FinishedOutput, JobPorts, ScriptInput, ScriptRun } from './job';
import type { JobOutputSettings, JobTarget } from './job-state';
import { chunkKey, endingKey, outputKey } from './keys';

/**
 * One script session's deadline: a poll moves at most one chunk (32 MiB of incompressible output
 * is ~43 MB of base64, ~70 s at the real agent's ~0.65 MB/s), a stop waits out the grace.
 */
export const SCRIPT_SESSION_TIMEOUT_MS = 300_000;
/** The scripts' output is their own encoding already: no second compression on top. */
const SCRIPT_TRANSFER = 'plain';
/** Output read before the joined object's upload starts, to choose its Content-Type (one S3 part). */
const CONTENT_TYPE_SAMPLE_BYTES = 5 * 1024 * 1024;
/** The bounded view run() keeps is unused (the sink gets everything); keep it small. */
const SCRIPT_VIEW_BYTES = 1024;

export interface AwsPortsOptions {
  readonly clients: AwsClients;
  readonly logger: SessionLogger;
  readonly target: JobTarget;
  readonly output: Pick<JobOutputSettings, 'bucket' | 'keyPrefix'>;
  /** Milliseconds this invocation may still spend. */
  readonly remainingMs: () => number;
}

/** The ExecRequest that names exactly the job's task and container (for target resolution). */
function targetRequest(target: JobTarget): ExecRequest {
  return {
    command: 'true',
    cluster: target.clusterArn,
    target: { kind: 'task', task: target.taskArn },
    container: target.container,
    shell: true,
    tty: false,
    timeoutSeconds: 1,
    outputLimitBytes: SCRIPT_VIEW_BYTES,
    stripAnsi: false,
    failOnNonZeroExit: false,
    transfer: SCRIPT_TRANSFER,
  };
}

export function awsJobPorts(options: AwsPortsOptions): JobPorts {
  const { clients, logger, target, output } = options;
  let resolved: Promise<ResolvedTarget> | undefined;
  const resolveOnce = (): Promise<ResolvedTarget> => {
    resolved ??= resolveTarget(clients.ecs, targetRequest(target), logger);
    return resolved;
  };
  return {
    logger,
    now: () => Date.now(),
    checkTarget: async () => {
      await resolveOnce();
    },
    runScript: async (script, input) => runScript(await resolveOnce(), script, input ?? {}, options),
    putChunk: async (offset, bytes) => {
      const [client, { PutObjectCommand }] = await Promise.all([clients.s3(), import('@aws-sdk/client-s3')]);
      await client.send(
        new PutObjectCommand({ Bucket: output.bucket, Key: chunkKey(output.keyPrefix, offset), Body: bytes }),
      );
    },
    saveEnding: async (ending) => {
      const [client, { PutObjectCommand }] = await Promise.all([clients.s3(), import('@aws-sdk/client-s3')]);
      await client.send(
        new PutObjectCommand({
          Bucket: output.bucket,
          Key: endingKey(output.keyPrefix),
          Body: JSON.stringify(ending),
          ContentType: 'application/json',
        }),
      );
    },
    loadEnding: async () => {
      const [client, { GetObjectCommand }] = await Promise.all([clients.s3(), import('@aws-sdk/client-s3')]);
      try {
        const response = await client.send(
          new GetObjectCommand({ Bucket: output.bucket, Key: endingKey(output.keyPrefix) }),
        );
        return JSON.parse((await response.Body?.transformToString()) ?? 'null') ?? undefined;
      } catch (err) {
        if (err instanceof Error && (err.name === 'NoSuchKey' || err.name === 'NotFound')) return undefined;
        throw err;
      }
    },
    finishOutput: async (total, headBytes, tailBytes) =>
      joinChunks(await clients.s3(), output, total, headBytes, tailBytes),
  };
}

async function runScript(
  target: ResolvedTarget,
  script: string,
  input: ScriptInput,
  options: AwsPortsOptions,
): Promise<ScriptRun> {
  const { clients, logger } = options;
  const timeoutMs = Math.max(MIN_COMMAND_TIME_MS, Math.min(SCRIPT_SESSION_TIMEOUT_MS, options.remainingMs()));
  const parts: Buffer[] = [];
  let sessionId = '';
  try {
    const result = await run(
      script,
      async (prepared) => {
        const endpoint = await startTargetSession(clients, target, prepared.command, {
          retryUntilMs: Date.now() + timeoutMs - MIN_COMMAND_TIME_MS,
        });
        sessionId = endpoint.sessionId;
        return endpoint;
      },
      {
        shell: true,
        tty: false,
        ...input,
        // The scripts encode what must be exact themselves (the poll's gzip + base64).
        transfer: SCRIPT_TRANSFER,
        timeoutMs,
        terminalSize: TERMINAL_SIZE,
        outputLimitBytes: SCRIPT_VIEW_BYTES,
        sink: new CallbackSink((chunk) => parts.push(chunk)),
        normalizeNewlines: true,
        stripAnsi: false,
        ...targetSessionPlumbing(clients, target),
        logger,
      },
    );
    return { output: Buffer.concat(parts).toString('utf8'), sessionId: result.sessionId };
  } catch (err) {
    throw mapSessionError(err, {
      cluster: target.clusterName,
      taskArn: target.taskArn,
      container: target.container,
      ...(sessionId ? { sessionId } : {}),
    });
  }
}

/**
 * Streams the chunks, in offset order, into one object (a multipart upload for large output), and
 * keeps the first `headBytes` and last `tailBytes` on the way. Chunks stay for the bucket's
 * lifecycle rule, so a retried final poll can join them again.
 */
async function joinChunks(
  s3: S3Client,
  output: Pick<JobOutputSettings, 'bucket' | 'keyPrefix'>,
  total: number,
  headBytes: number,
  tailBytes: number,
): Promise<FinishedOutput> {
  const [{ GetObjectCommand }, { Upload }] = await Promise.all([
    import('@aws-sdk/client-s3'),
    import('@aws-sdk/lib-storage'),
  ]);
  const readChunk = async (offset: number): Promise<Buffer> => {
    const response = await s3.send(
      new GetObjectCommand({ Bucket: output.bucket, Key: chunkKey(output.keyPrefix, offset) }),
    );
    const bytes = Buffer.from((await response.Body?.transformToByteArray()) ?? new Uint8Array());
    if (bytes.length === 0) throw new Error(`the output chunk at offset ${offset} is empty or missing`);
    return bytes;
  };
  // The upload names its Content-Type at creation: the chunks read before it starts decide it —
  // all of the output when it is under CONTENT_TYPE_SAMPLE_BYTES, else its first chunks.
  const early: Buffer[] = [];
  let sampled = 0;
  while (sampled < total && sampled < CONTENT_TYPE_SAMPLE_BYTES) {
    const bytes = await readChunk(sampled);
    early.push(bytes);
    sampled += bytes.length;
  }
  const contentType = outputContentType(Buffer.concat(early), sampled >= total);
  const body = new PassThrough();
  const upload = new Upload({
    client: s3,
    params: {
      Bucket: output.bucket,
      Key: outputKey(output.keyPrefix),
      Body: body,
      ContentType: contentType,
    },
  });
  const uploaded = upload.done();
  // Awaited below; a failure before then must not count as unhandled.
  uploaded.catch(() => undefined);
  const head: Buffer[] = [];
  let headLength = 0;
  let tail = Buffer.alloc(0);
  try {
    for (let offset = 0; offset < total; ) {
      const bytes = early.shift() ?? (await readChunk(offset));
      if (headLength < headBytes) {
        const part = bytes.subarray(0, headBytes - headLength);
        head.push(part);
        headLength += part.length;
      }
      tail = Buffer.concat([tail, bytes]);
      if (tail.length > tailBytes) tail = Buffer.from(tail.subarray(tail.length - tailBytes));
      if (!body.write(bytes)) await new Promise((resolve) => body.once('drain', resolve));
      offset += bytes.length;
    }
    body.end();
    await uploaded;
  } catch (err) {
    body.destroy();
    await upload.abort().catch(() => undefined);
    throw err;
  }
  const headBuffer = Buffer.concat(head);
  // Bytes in both the head and the tail are given once, to the head.
  const tailStart = Math.max(headBuffer.length, total - tail.length);
  return {
    uri: `s3://${output.bucket}/${outputKey(output.keyPrefix)}`,
    head: headBuffer,
    tail: tail.subarray(tail.length - (total - tailStart)),
  };
}
