// Test support for the guarded HTTP client: local servers and a tripwire
// that makes sure no test ever opens a TCP connection to anything but
// loopback, even if the guard under test were broken.

import http from "node:http";
import https from "node:https";
import net, { type AddressInfo } from "node:net";
import { expect } from "vitest";
import { FetchError, type FetchErrorCode } from "../../src/http/errors.ts";

// ---------------------------------------------------------------- tripwire

/** Non-loopback connection attempts seen while the tripwire was armed. */
export const tripwireHits: string[] = [];

function isLoopback(address: string): boolean {
  return address === "::1" || /^127\./.test(address) || /^::ffff:127\./i.test(address);
}

type ConnectFn = (this: net.Socket, ...args: unknown[]) => net.Socket;
type LookupCallback = (err: Error | null, address: string | Array<{ address: string; family: number }>, family?: number) => void;
type LookupLike = (hostname: string, options: object, callback: LookupCallback) => void;

let originalConnect: ConnectFn | null = null;

/** Wraps net.Socket#connect so any connection to a non-loopback address is destroyed and recorded. */
export function armTripwire(): void {
  if (originalConnect !== null) return;
  const proto = net.Socket.prototype as unknown as { connect: ConnectFn };
  const original = proto.connect;
  originalConnect = original;
  proto.connect = function guardedConnect(this: net.Socket, ...args: unknown[]): net.Socket {
    const first = args[0];
    const options = (Array.isArray(first) ? first[0] : typeof first === "object" && first !== null ? first : { port: first, host: args[1] }) as {
      host?: string;
      path?: string;
      lookup?: LookupLike;
    };
    if (options.path !== undefined) return original.apply(this, args);
    const host = options.host ?? "localhost";
    if (net.isIP(host) !== 0) {
      if (!isLoopback(host)) {
        tripwireHits.push(host);
        this.destroy(new Error(`TRIPWIRE: connection to ${host} blocked by the test harness`));
        return this;
      }
      return original.apply(this, args);
    }
    const lookup = options.lookup;
    if (lookup === undefined) {
      tripwireHits.push(`${host} (system DNS)`);
      this.destroy(new Error(`TRIPWIRE: ${host} would use system DNS`));
      return this;
    }
    options.lookup = (hostname, lookupOptions, callback) => {
      lookup(hostname, lookupOptions, (err, address, family) => {
        const list = typeof address === "string" ? [address] : (address ?? []).map((entry) => entry.address);
        const bad = list.find((entry) => !isLoopback(entry));
        if (err === null && bad !== undefined) {
          tripwireHits.push(`${hostname} -> ${bad}`);
          callback(new Error(`TRIPWIRE: ${hostname} -> ${bad} blocked by the test harness`), address, family);
          return;
        }
        callback(err, address, family);
      });
    };
    return original.apply(this, args);
  };
}

export function disarmTripwire(): void {
  if (originalConnect === null) return;
  (net.Socket.prototype as unknown as { connect: ConnectFn }).connect = originalConnect;
  originalConnect = null;
}

// ---------------------------------------------------------------- servers

export interface TestServer {
  port: number;
  /** "127.0.0.1:PORT" (or "[::1]:PORT"), for allowHosts. */
  hostPort: string;
  url(path?: string): string;
  /** TCP connections accepted so far. */
  connections: number;
  /** Requests seen so far (method, url, headers). */
  requests: http.IncomingMessage[];
  /** Resolves when every accepted socket has closed. */
  allSocketsClosed(): Promise<void>;
  close(): Promise<void>;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export async function startServer(
  handler: Handler,
  options: { host?: string; tls?: { key: string; cert: string } } = {},
): Promise<TestServer> {
  const host = options.host ?? "127.0.0.1";
  const server = options.tls === undefined ? http.createServer(handler) : https.createServer(options.tls, handler);
  const sockets = new Set<net.Socket>();
  const state = { connections: 0, requests: [] as http.IncomingMessage[] };
  let closedWaiters: Array<() => void> = [];
  server.on("connection", (socket: net.Socket) => {
    state.connections += 1;
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => {
      sockets.delete(socket);
      if (sockets.size === 0) {
        for (const waiter of closedWaiters) waiter();
        closedWaiters = [];
      }
    });
  });
  server.on("request", (req: http.IncomingMessage) => state.requests.push(req));
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  const hostText = host.includes(":") ? `[${host}]` : host;
  const scheme = options.tls === undefined ? "http" : "https";
  return {
    port,
    hostPort: `${hostText}:${port}`,
    url: (path = "/") => `${scheme}://${hostText}:${port}${path}`,
    get connections() {
      return state.connections;
    },
    get requests() {
      return state.requests;
    },
    allSocketsClosed: () => (sockets.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => closedWaiters.push(resolve))),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port with nothing listening on it. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// ---------------------------------------------------------------- assertions

/** Awaits `promise`, expecting a FetchError with `code`; returns it for more checks. */
export async function expectFetchError(promise: Promise<unknown>, code: FetchErrorCode): Promise<FetchError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  expect(caught, "expected the fetch to fail").toBeInstanceOf(FetchError);
  const error = caught as FetchError;
  expect(error.code, error.message).toBe(code);
  return error;
}

/** Resolver that answers from a fixed table; records the names it was asked. */
export function fakeResolver(table: Record<string, string[]>): {
  resolver: (hostname: string) => Promise<Array<{ address: string; family: 4 | 6 }>>;
  asked: string[];
} {
  const asked: string[] = [];
  return {
    asked,
    resolver: async (hostname) => {
      asked.push(hostname);
      const answers = table[hostname];
      if (answers === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
      return answers.map((address) => ({ address, family: net.isIP(address) === 6 ? 6 : 4 }));
    },
  };
}
