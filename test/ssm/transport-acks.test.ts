import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Socket } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { decodeFrame, encodeFrame, parseAcknowledgeContent } from '../../lambda/ssm/codec';
import { MessageType, PayloadType } from '../../lambda/ssm/constants';
import type { Schedule } from '../../lambda/ssm/read-moderation';
import { DataChannelSession } from '../../lambda/ssm/session';
import { DataChannelConnection } from '../../lambda/ssm/transport';

type WriteMethod = (this: Socket, ...args: unknown[]) => unknown;
interface SocketWrites {
  _write: WriteMethod;
  _writev: WriteMethod;
}

/**
 * Counts the stream writes of sockets connected to `port` (the client's side). Each `_write` or
 * `_writev` call is one write request to the kernel, whatever number of frames it carries.
 */
function countSocketWrites(port: number): { readonly count: () => number; restore(): void } {
  const proto = Socket.prototype as unknown as SocketWrites;
  const originals = { _write: proto._write, _writev: proto._writev };
  let count = 0;
  for (const name of ['_write', '_writev'] as const) {
    const original = originals[name];
    proto[name] = function (this: Socket, ...args: unknown[]) {
      if (this.remotePort === port) count++;
      return original.apply(this, args);
    };
  }
  return {
    count: () => count,
    restore: () => Object.assign(proto, originals),
  };
}

function outputFrame(sequenceNumber: number, text: string): Buffer {
  return encodeFrame({
    messageType: MessageType.OutputStreamData,
    sequenceNumber,
    flags: sequenceNumber === 0 ? 1n : 0n,
    messageId: randomUUID(),
    payloadType: PayloadType.Output,
    payload: Buffer.from(text),
    createdDateMs: Date.now(),
  });
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('DataChannelConnection: acks of frames that trickle in share socket writes', () => {
  let server: WebSocketServer;
  let agent: WebSocket | undefined;
  const acked: number[] = [];
  let openFrames = 0;

  beforeEach(async () => {
    acked.length = 0;
    openFrames = 0;
    server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    await new Promise((resolve) => server.once('listening', resolve));
    server.on('connection', (ws) => {
      agent = ws;
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (!isBinary) {
          openFrames++;
          return;
        }
        // A client write may hold several frames, but ws hands them over one message each.
        const frame = decodeFrame(data);
        if (frame.messageType === MessageType.Acknowledge)
          acked.push(parseAcknowledgeContent(frame.payload).AcknowledgedMessageSequenceNumber);
      });
    });
  });

  afterEach(async () => {
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  });

  it('acks every frame, duplicates included, and sends the acks of one read in one socket write', async () => {
    // Arrange: the client's read pauses are driven by hand through the timer seam.
    const port = (server.address() as AddressInfo).port;
    const resumes: (() => void)[] = [];
    const schedule: Schedule = (callback) => {
      resumes.push(callback);
      return () => undefined;
    };
    const output: Buffer[] = [];
    let connection: DataChannelConnection | undefined;
    const session = new DataChannelSession({
      sessionId: 'ecs-execute-command-0123456789abcdef0',
      hooks: {
        send: (frame) => connection?.sendBinary(frame),
        output: (bytes) => output.push(bytes),
        closed: () => undefined,
        failed: () => undefined,
      },
    });
    const writes = countSocketWrites(port);
    try {
      connection = await DataChannelConnection.open(
        `ws://127.0.0.1:${port}/`,
        { binary: (data) => session.receive(data), closed: () => undefined },
        { readModeration: { schedule } },
      );
      connection.sendText('{"open":"frame"}');
      await until(() => openFrames === 1 && agent !== undefined, 'the open frame');
      const agentSocket = agent as WebSocket;
      const send = (frame: Buffer): Promise<void> =>
        new Promise((resolve, reject) => agentSocket.send(frame, (err) => (err ? reject(err) : resolve())));
      const writesBefore = writes.count();

      // Act 1: one frame; the client acks it and leaves the socket unread for a pause.
      await send(outputFrame(0, 'a'));
      await until(() => acked.length === 1, 'the first ack');
      expect(writes.count() - writesBefore).toBe(1);
      expect(resumes).toHaveLength(1);

      // Act 2: while it is paused, new frames and duplicates wait in the kernel.
      for (const frame of [
        outputFrame(1, 'b'),
        outputFrame(2, 'c'),
        outputFrame(0, 'a'),
        outputFrame(3, 'd'),
        outputFrame(2, 'c'),
      ])
        await send(frame);
      expect(acked).toHaveLength(1);
      resumes.shift()?.();
      await until(() => acked.length === 6, 'the acks of the batch');

      // Assert: one more socket write for five acks, one per frame received.
      expect(writes.count() - writesBefore).toBe(2);
      expect(acked).toEqual([0, 1, 2, 0, 3, 2]);
      expect(Buffer.concat(output).toString()).toBe('abcd');
      expect(session.stats.duplicateFrames).toBe(2);
    } finally {
      writes.restore();
      connection?.terminate();
    }
  });
});
