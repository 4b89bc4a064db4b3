import { randomUUID } from 'node:crypto';
import { decodeFrame, encodeAcknowledge, encodeFrame } from '../lambda/ssm/codec';
import { MessageType, PayloadType } from '../lambda/ssm/constants';

export interface CodecFigures {
  readonly frames: number;
  readonly seconds: number;
  readonly framesPerSecond: number;
}

/** Decode + validate (digest) + ack-encode of 1 KiB output frames, the client's per-frame hot path. */
export function benchCodec(frames = 500_000): CodecFigures {
  const payload = Buffer.alloc(1024, 0x61);
  const pool = Array.from({ length: 64 }, (_, i) =>
    encodeFrame({
      messageType: MessageType.OutputStreamData,
      sequenceNumber: i,
      flags: 0n,
      messageId: randomUUID(),
      payloadType: PayloadType.Output,
      payload,
      createdDateMs: Date.now(),
    }),
  );
  const identity = { createdDateMs: Date.now(), messageId: randomUUID() };
  let checksum = 0;
  const run = (count: number): void => {
    for (let i = 0; i < count; i++) {
      const frame = decodeFrame(pool[i % pool.length] as Buffer);
      checksum += encodeAcknowledge(frame, identity).length;
    }
  };
  run(50_000); // warm up the JIT (optimising tiers kick in late)
  const started = process.hrtime.bigint();
  run(frames);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (checksum === 0) throw new Error('unreachable: keeps the loop from being optimised away');
  return { frames, seconds, framesPerSecond: frames / seconds };
}
