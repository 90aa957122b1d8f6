// Guarded fetch against hostile or merely odd servers on loopback: deadlines,
// size caps, compression, content-type gate, charsets, status codes.

import type { ServerResponse } from "node:http";
import zlib from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { decodeBody } from "../../src/http/charset.ts";
import { DEFAULT_USER_AGENT, guardedFetch, type GuardedFetchOptions } from "../../src/http/guarded-fetch.ts";
import { armTripwire, disarmTripwire, expectFetchError, startServer, tripwireHits, type TestServer } from "./helpers.ts";

const CHUNK = 64 * 1024;
const MB = 1024 * 1024;

/** Chunk k of a large page: distinct content per offset, so a misplaced byte shows. */
function bigChunk(k: number): Buffer {
  const head = Buffer.from(`<!-- chunk ${k} -->\n`);
  const chunk = Buffer.alloc(CHUNK, 0x61 + (k % 26));
  head.copy(chunk);
  chunk[CHUNK - 1] = 0x0a;
  return chunk;
}
function bigPrefix(length: number): Buffer {
  const chunks: Buffer[] = [];
  for (let k = 0; k * CHUNK < length; k++) chunks.push(bigChunk(k));
  return Buffer.concat(chunks).subarray(0, length);
}

/** Writes `count` chunks (Infinity: until the client goes away), honouring backpressure. */
function stream(res: ServerResponse, count: number, make: (k: number) => Buffer, onClose?: () => void): void {
  let k = 0;
  let closed = false;
  res.on("close", () => {
    closed = true;
    onClose?.();
  });
  const pump = (): void => {
    while (!closed && k < count) {
      const ok = res.write(make(k++));
      if (!ok) {
        res.once("drain", pump);
        return;
      }
    }
    if (!closed && k >= count) res.end();
  };
  pump();
}

const HTML = `<!doctype html><html><head><title>Hello</title></head><body>${"<p>Some text, wie geht's? 日本語</p>".repeat(200)}</body></html>`;
let bomb: Buffer; // gzip of 100 MB of zeros (~100 KB)
let server: TestServer;
/** Resolvers for "the server-side response of route X closed". */
const closedAt = new Map<string, number>();

async function gzipOfZeros(megabytes: number): Promise<Buffer> {
  const gzip = zlib.createGzip({ level: 9 });
  const out: Buffer[] = [];
  gzip.on("data", (chunk: Buffer) => out.push(chunk));
  const done = new Promise((resolve) => gzip.on("end", resolve));
  const zeros = Buffer.alloc(MB);
  for (let i = 0; i < megabytes; i++) gzip.write(zeros);
  gzip.end();
  await done;
  return Buffer.concat(out);
}

beforeAll(async () => {
  armTripwire();
  bomb = await gzipOfZeros(100);
  const sjis = Buffer.from([0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea]);
  const eucjp = Buffer.from([0xc6, 0xfc, 0xcb, 0xdc, 0xb8, 0xec]);
  const gb2312 = Buffer.from([0xd6, 0xd0, 0xce, 0xc4]);
  const cp1251 = Buffer.from([0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2]);
  const html = (head: string, body: Buffer): Buffer => Buffer.concat([Buffer.from(`<html><head>${head}</head><body><p>`), body, Buffer.from("</p></body></html>")]);
  const pages: Record<string, [string, Buffer]> = {
    "/sjis": ["text/html; charset=Shift_JIS", html("<title>x</title>", sjis)],
    "/eucjp": ["text/html", html('<meta charset="EUC-JP">', eucjp)],
    "/gb2312": ["text/html", html('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">', gb2312)],
    "/cp1251": ["text/html; charset=windows-1251", html("", cp1251)],
    "/meta-lies": ["text/html", Buffer.from('<html><head><meta charset="Shift_JIS"></head><body><p>Grüße 日本語</p></body></html>')],
  };

  server = await startServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const path = url.pathname;
    const page = pages[path];
    if (page !== undefined) {
      res.writeHead(200, { "content-type": page[0] }).end(page[1]);
      return;
    }
    switch (path) {
      case "/echo":
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(req.headers));
        return;
      case "/html":
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(HTML);
        return;
      case "/gzip":
        res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-encoding": "gzip" }).end(zlib.gzipSync(HTML));
        return;
      case "/br":
        res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-encoding": "br" }).end(zlib.brotliCompressSync(HTML));
        return;
      case "/deflate":
        res.writeHead(200, { "content-type": "text/html", "content-encoding": "deflate" }).end(zlib.deflateSync(HTML));
        return;
      case "/deflate-raw":
        res.writeHead(200, { "content-type": "text/html", "content-encoding": "deflate" }).end(zlib.deflateRawSync(HTML));
        return;
      case "/corrupt-gzip":
        res.writeHead(200, { "content-type": "text/html", "content-encoding": "gzip" }).end(Buffer.from("definitely not gzip data"));
        return;
      case "/empty-blocks": {
        // Valid raw deflate that inflates to nothing: 40 000 empty stored blocks (200 KB).
        const empty = Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]);
        res.writeHead(200, { "content-type": "text/html", "content-encoding": "deflate" });
        res.end(Buffer.concat([...Array<Buffer>(40_000).fill(empty), Buffer.from([0x03, 0x00])]));
        return;
      }
      case "/compress":
        res.writeHead(200, { "content-type": "text/html", "content-encoding": "compress" }).end("x");
        return;
      case "/bomb":
        res.on("close", () => closedAt.set(path, performance.now()));
        res.writeHead(200, { "content-type": "text/html", "content-encoding": "gzip", "content-length": bomb.length }).end(bomb);
        return;
      case "/trickle": {
        res.writeHead(200, { "content-type": "text/html" });
        const timer = setInterval(() => res.write("<"), 50);
        res.on("close", () => clearInterval(timer));
        return;
      }
      case "/stall":
        return; // never answers
      case "/endless":
        res.writeHead(200, { "content-type": "text/html" });
        stream(res, Infinity, bigChunk, () => closedAt.set(path, performance.now()));
        return;
      case "/big":
        res.writeHead(200, { "content-type": "text/html", "content-length": 50 * MB });
        stream(res, (50 * MB) / CHUNK, bigChunk, () => closedAt.set(path, performance.now()));
        return;
      case "/big-chunked":
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        stream(res, (50 * MB) / CHUNK, bigChunk, () => closedAt.set(path, performance.now()));
        return;
      case "/image":
        res.writeHead(200, { "content-type": "image/png" });
        stream(res, (10 * MB) / CHUNK, () => Buffer.alloc(CHUNK, 0x89), () => closedAt.set(path, performance.now()));
        return;
      case "/no-type":
        res.writeHead(200).end("bytes");
        return;
      case "/cut":
        res.writeHead(200, { "content-type": "text/html", "content-length": 1000 });
        res.write("<p>only part");
        setTimeout(() => res.destroy(), 20);
        return;
      default:
        if (path.startsWith("/status/")) {
          res.writeHead(Number(path.slice("/status/".length)), { "content-type": "text/html" }).end("<p>error page</p>");
          return;
        }
        res.writeHead(404).end();
    }
  });
});

afterAll(async () => {
  disarmTripwire();
  await server.close();
});

afterEach(() => {
  expect(tripwireHits, "a request left loopback").toEqual([]);
});

function opts(extra: GuardedFetchOptions = {}): GuardedFetchOptions {
  return { allowHosts: [server.hostPort], timeoutMs: 3_000, connectTimeoutMs: 1_000, ...extra };
}

/** Waits until the server saw the response for `path` close (the client dropped the socket). */
async function serverClosed(path: string, since: number): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const at = closedAt.get(path);
    if (at !== undefined && at >= since) return at - since;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`server response for ${path} still open`);
}

describe("happy paths", () => {
  it("plain HTML with the expected request headers", async () => {
    const result = await guardedFetch(server.url("/html"), opts({ accept: ["text/html", "application/xhtml+xml"] }));
    expect(result).toMatchObject({ url: server.url("/html"), status: 200, contentType: "text/html", truncated: false, redirects: [] });
    expect(decodeBody(result.body, result.headers["content-type"])).toBe(HTML);
    const echo = await guardedFetch(server.url("/echo"), opts({ accept: ["application/json"] }));
    const sent = JSON.parse(echo.body.toString()) as Record<string, string>;
    expect(sent["user-agent"]).toBe(DEFAULT_USER_AGENT);
    expect(sent["user-agent"]).toBe("botkit-worker/0.1 (+link preview; ingestion)");
    expect(sent.accept).toBe("application/json");
    expect(sent["accept-encoding"]).toBe("gzip, deflate, br");
    expect(sent.host).toBe(server.hostPort);
  });

  it.each(["/gzip", "/br", "/deflate", "/deflate-raw"])("decompresses %s", async (path) => {
    const result = await guardedFetch(server.url(path), opts({ accept: ["text/html"] }));
    expect(result.body.toString("utf8")).toBe(HTML);
    expect(result.truncated).toBe(false);
  });

  it("decodes legacy charsets from header, <meta charset> and <meta http-equiv>", async () => {
    const text = async (path: string): Promise<string> => {
      const result = await guardedFetch(server.url(path), opts({ accept: ["text/html"] }));
      return decodeBody(result.body, result.headers["content-type"]);
    };
    expect(await text("/sjis")).toContain("<p>日本語</p>");
    expect(await text("/eucjp")).toContain("<p>日本語</p>");
    expect(await text("/gb2312")).toContain("<p>中文</p>");
    expect(await text("/cp1251")).toContain("<p>Привет</p>");
    expect(await text("/meta-lies")).toContain("<p>Grüße 日本語</p>");
  });
});

describe("deadlines", () => {
  it("a server trickling one byte every 50 ms hits the total deadline", async () => {
    const started = performance.now();
    const error = await expectFetchError(guardedFetch(server.url("/trickle"), opts({ timeoutMs: 400 })), "timeout");
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(380);
    expect(elapsed).toBeLessThan(1_000);
    expect(error.url).toBe(server.url("/trickle"));
  });

  it("a server that never answers hits the total deadline", async () => {
    const started = performance.now();
    await expectFetchError(guardedFetch(server.url("/stall"), opts({ timeoutMs: 300 })), "timeout");
    expect(performance.now() - started).toBeLessThan(800);
  });

  it("honours the caller's AbortSignal", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expectFetchError(guardedFetch(server.url("/stall"), opts({ signal: controller.signal })), "aborted");
    await expectFetchError(guardedFetch(server.url("/trickle"), opts({ signal: AbortSignal.timeout(100) })), "timeout");
    const already = new AbortController();
    already.abort();
    await expectFetchError(guardedFetch(server.url("/html"), opts({ signal: already.signal })), "aborted");
  });
});

describe("size caps", () => {
  it("an endless body fails too_large at the cap and the socket is destroyed", async () => {
    const started = performance.now();
    const error = await expectFetchError(guardedFetch(server.url("/endless"), opts({ maxBytes: 256 * 1024 })), "too_large");
    expect(error.status).toBe(200);
    expect(await serverClosed("/endless", started)).toBeLessThan(1_000);
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it("a gzip bomb (100 MB of zeros) fails too_large fast without inflating it", async () => {
    expect(bomb.length).toBeLessThan(200 * 1024);
    const baseline = process.memoryUsage().arrayBuffers;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    }, 1);
    const started = performance.now();
    try {
      await expectFetchError(guardedFetch(server.url("/bomb"), opts()), "too_large");
    } finally {
      clearInterval(sampler);
    }
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(peak - baseline).toBeLessThan(32 * MB);
    // Truncation mode returns exactly maxBytes of the inflated zeros.
    const prefix = await guardedFetch(server.url("/bomb"), opts({ truncate: true, maxBytes: 1000 }));
    expect(prefix.truncated).toBe(true);
    expect(prefix.body).toEqual(Buffer.alloc(1000));
  });

  it("a 50 MB page with Content-Length fails too_large before reading", async () => {
    const started = performance.now();
    const error = await expectFetchError(guardedFetch(server.url("/big"), opts()), "too_large");
    expect(error.message).toMatch(/declares 52428800 bytes/);
    expect(await serverClosed("/big", started)).toBeLessThan(500);
  });

  it("a 50 MB chunked page stops at the 2 MB default cap", async () => {
    const started = performance.now();
    await expectFetchError(guardedFetch(server.url("/big-chunked"), opts()), "too_large");
    expect(await serverClosed("/big-chunked", started)).toBeLessThan(1_000);
  });

  it.each(["/big", "/big-chunked"])("truncate mode returns exactly the prefix of %s", async (path) => {
    const started = performance.now();
    const result = await guardedFetch(server.url(path), opts({ truncate: true, maxBytes: 100_000 }));
    expect(result.truncated).toBe(true);
    expect(result.body.length).toBe(100_000);
    expect(result.body.equals(bigPrefix(100_000))).toBe(true);
    expect(await serverClosed(path, started)).toBeLessThan(1_000);
    const atDefault = await guardedFetch(server.url(path), opts({ truncate: true }));
    expect(atDefault.body.length).toBe(2 * MB);
    expect(atDefault.body.equals(bigPrefix(2 * MB))).toBe(true);
  });

  it("compressed bytes are capped too (a stream that inflates to nothing)", async () => {
    const whole = await guardedFetch(server.url("/empty-blocks"), opts());
    expect(whole.body.length).toBe(0);
    await expectFetchError(guardedFetch(server.url("/empty-blocks"), opts({ maxBytes: 10_000 })), "too_large");
    const cut = await guardedFetch(server.url("/empty-blocks"), opts({ maxBytes: 10_000, truncate: true }));
    expect(cut).toMatchObject({ truncated: true, body: Buffer.alloc(0) });
  });

  it("a body exactly at the cap is not truncated", async () => {
    const result = await guardedFetch(server.url("/html"), opts({ maxBytes: Buffer.byteLength(HTML) }));
    expect(result.truncated).toBe(false);
    expect(result.body.length).toBe(Buffer.byteLength(HTML));
  });
});

describe("content type and status", () => {
  it("refuses a non-HTML type without reading the body, and reports the type", async () => {
    const started = performance.now();
    const error = await expectFetchError(guardedFetch(server.url("/image"), opts({ accept: ["text/html", "application/xhtml+xml"] })), "unsupported_content_type");
    expect(error.contentType).toBe("image/png");
    expect(error.status).toBe(200);
    expect(error.url).toBe(server.url("/image"));
    expect(await serverClosed("/image", started)).toBeLessThan(500);
    await expectFetchError(guardedFetch(server.url("/no-type"), opts({ accept: ["text/html"] })), "unsupported_content_type");
  });

  it("accepts wildcard types", async () => {
    const result = await guardedFetch(server.url("/image"), opts({ accept: ["image/*"], maxBytes: 1024, truncate: true }));
    expect(result.contentType).toBe("image/png");
    expect(result.body.length).toBe(1024);
    expect((await guardedFetch(server.url("/no-type"), opts({ accept: ["*/*"] }))).body.toString()).toBe("bytes");
  });

  it("non-2xx fails http_status with the status", async () => {
    const notFound = await expectFetchError(guardedFetch(server.url("/status/404"), opts()), "http_status");
    expect(notFound.status).toBe(404);
    expect(notFound.transient).toBe(false);
    expect(notFound.message).toMatch(/HTTP 404/);
    const unavailable = await expectFetchError(guardedFetch(server.url("/status/503"), opts()), "http_status");
    expect(unavailable.transient).toBe(true);
  });

  it("corrupt or unknown content-encoding fails invalid_response; a cut connection fails connection_failed", async () => {
    await expectFetchError(guardedFetch(server.url("/corrupt-gzip"), opts()), "invalid_response");
    await expectFetchError(guardedFetch(server.url("/compress"), opts()), "invalid_response");
    await expectFetchError(guardedFetch(server.url("/cut"), opts()), "connection_failed");
  });
});
