import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { ConnectError } from '../../lambda/ssm/errors';
import { DataChannelConnection } from '../../lambda/ssm/transport';

const HANDLERS = { binary: () => {}, closed: () => {} };

let server: Server;
let url: string;
let uncaught: unknown[];
/** Upgraded sockets leave the server's bookkeeping, so closeAllConnections() misses them. */
let upgradedSockets: Duplex[];
const recordUncaught = (error: unknown): void => {
  uncaught.push(error);
};

beforeEach(async () => {
  uncaught = [];
  process.on('uncaughtException', recordUncaught);
  upgradedSockets = [];
  server = createServer();
  server.on('upgrade', (_request, socket) => upgradedSockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/data-channel/s-1`;
});

afterEach(async () => {
  process.off('uncaughtException', recordUncaught);
  for (const socket of upgradedSockets) socket.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Lets ws emit whatever it emits after terminate() before the test looks for stray errors. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

describe('DataChannelConnection.open', () => {
  it('rejects with ConnectError, and nothing escapes, when the gateway refuses the upgrade', async () => {
    server.on('upgrade', (_request, socket) => {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
    });

    const opening = DataChannelConnection.open(url, HANDLERS, { timeoutMs: 5_000 });

    await expect(opening).rejects.toThrow(ConnectError);
    await expect(opening).rejects.toThrow(/HTTP 403/);
    await settle();
    expect(uncaught).toEqual([]);
  });

  it('rejects with ConnectError, and nothing escapes, when aborted while the upgrade is pending', async () => {
    server.on('upgrade', () => {
      // never answer: the client is still connecting when it is aborted
    });
    const controller = new AbortController();

    const opening = DataChannelConnection.open(url, HANDLERS, {
      timeoutMs: 5_000,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 20);

    await expect(opening).rejects.toThrow(/aborted/);
    await settle();
    expect(uncaught).toEqual([]);
  });
});
