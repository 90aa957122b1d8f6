// The one outbound HTTP client of the worker (URL ingestion, link unfurling,
// WordPress sync). It exists to make server-side request forgery impossible
// and hostile servers harmless:
//
// - http: and https: only; URLs with user:password@ are refused.
// - Every DNS answer is checked against the address policy (address-policy.ts)
//   and the request connects to exactly the checked address (a pinned
//   `lookup`), so DNS rebinding cannot swap it; TLS SNI, certificate checks
//   and the Host header still use the URL's host name.
// - Redirects are followed by hand (default max 5) and every hop goes through
//   the same checks. https→http downgrades are ALLOWED by default: the client
//   sends no cookies and drops Authorization/Cookie headers on cross-origin
//   redirects, so a downgrade leaks nothing the public page itself does not,
//   and refusing breaks real sites. `allowHttpsDowngrade: false` refuses them
//   ("unsupported_scheme").
// - Connect timeout (5 s), total deadline (15 s, includes DNS, redirects and
//   reading the body), size cap (2 MB) on the decompressed bytes (and on the
//   compressed bytes read, plus 64 KiB slack); on overflow the socket is
//   destroyed and the fetch fails "too_large", or with `truncate: true`
//   returns exactly the first maxBytes bytes flagged `truncated`. A declared
//   Content-Length over the cap fails before reading (unless truncating).
// - Content-Type gate before any body byte is read.

import dns from "node:dns/promises";
import http, { type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { pipeline, Transform, type Duplex, type Readable } from "node:stream";
import { classifyAddress, classifyHostname, normaliseHostname } from "./address-policy.ts";
import { createAllowList, type AllowAddressPredicate, type AllowList } from "./allow-list.ts";
import { parseContentType } from "./charset.ts";
import { ACCEPT_ENCODING, createDecoder, parseContentEncoding } from "./content-encoding.ts";
import { FetchError, type FetchErrorCode, type FetchErrorDetails } from "./errors.ts";

export const DEFAULT_USER_AGENT = "botkit-worker/0.1 (+link preview; ingestion)";
export const DEFAULT_MAX_BYTES = 2 * 1024 * 1024;
export const DEFAULT_MAX_REDIRECTS = 5;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_TIMEOUT_MS = 15_000;

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to ALL its addresses. Rejections become "dns_failure". */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** The default resolver: the system resolver (getaddrinfo), every answer, in its order. */
export const systemResolver: Resolver = async (hostname) => {
  const answers = await dns.lookup(hostname, { all: true, order: "verbatim" });
  return answers.map((answer) => ({ address: answer.address, family: answer.family === 6 ? 6 : 4 }));
};

export interface GuardedFetchOptions {
  /**
   * Accepted MIME types ("text/html", "image/*", "*\/*"). Another type fails
   * "unsupported_content_type" before the body is read. Default: anything.
   * A response without Content-Type only passes "*\/*" (or no list).
   */
  accept?: readonly string[];
  /** Cap on the (decompressed) body bytes; compressed bytes read are capped at this + 64 KiB. Default 2 MB. */
  maxBytes?: number;
  /** Past maxBytes, return the first maxBytes bytes with `truncated: true` instead of failing "too_large". */
  truncate?: boolean;
  /** Default 5. */
  maxRedirects?: number;
  /** Per connection attempt. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Whole fetch: DNS, every hop, and the body. Default 15000 ms. */
  timeoutMs?: number;
  /** Follow https→http redirects. Default true (see module comment). */
  allowHttpsDowngrade?: boolean;
  /**
   * Policy exceptions, OFF by default: "host" or "host:port" ("[::1]:8080").
   * See allow-list.ts. Meant for tests on loopback and explicitly configured
   * internal services; never fill it from user input.
   */
  allowHosts?: readonly string[];
  /** Programmatic policy exception: return true to allow connecting to `address`. */
  allowAddress?: AllowAddressPredicate;
  /** DNS resolver (tests inject one). Default: systemResolver. */
  resolver?: Resolver;
  /** Extra request headers. Host, Accept-Encoding, Connection and framing headers are ignored; Authorization/Cookie are dropped on cross-origin redirects. */
  headers?: Readonly<Record<string, string>>;
  /** Default DEFAULT_USER_AGENT. */
  userAgent?: string;
  /** Extra trusted CA certificates (PEM) for https, e.g. a self-hosted WordPress; replaces the default roots like tls.connect's `ca`. */
  ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  signal?: AbortSignal;
}

export interface FetchResult {
  /** The final URL, after redirects. */
  url: string;
  status: number;
  /** Response headers as received (Content-Encoding/Content-Length describe the wire form, not `body`). */
  headers: IncomingHttpHeaders;
  /** Decompressed body, at most maxBytes bytes. */
  body: Buffer;
  /** MIME essence of Content-Type, lower case without parameters ("" when absent). */
  contentType: string;
  /** True when the body was cut at maxBytes (only with `truncate: true`). */
  truncated: boolean;
  /** URLs that answered with a redirect, in order; empty when there was none. */
  redirects: string[];
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const IGNORED_CALLER_HEADERS = new Set(["host", "accept-encoding", "connection", "content-length", "transfer-encoding", "upgrade", "te", "keep-alive"]);
const CROSS_ORIGIN_DROPPED_HEADERS = new Set(["authorization", "cookie", "proxy-authorization"]);

interface Config {
  accept: readonly string[] | null;
  maxBytes: number;
  truncate: boolean;
  maxRedirects: number;
  connectTimeoutMs: number;
  timeoutMs: number;
  allowHttpsDowngrade: boolean;
  allow: AllowList;
  resolver: Resolver;
  headers: Record<string, string>;
  ca: string | Buffer | Array<string | Buffer> | undefined;
}

interface FetchState {
  url: string;
  redirects: string[];
}

interface Hop {
  res: IncomingMessage;
  /** Removes listeners and destroys the connection if the response is not fully read. */
  close(): void;
}

/**
 * GETs `input` under the guard rules. Resolves with the final response, or
 * rejects with a FetchError (see errors.ts for the codes).
 */
export async function guardedFetch(input: string | URL, options: GuardedFetchOptions = {}): Promise<FetchResult> {
  const cfg = configure(options);
  const state: FetchState = { url: String(input), redirects: [] };
  const controller = new AbortController();
  const { signal } = controller;
  const timer = setTimeout(() => {
    controller.abort(new FetchError("timeout", `no complete response from ${state.url} within ${cfg.timeoutMs} ms`, details(state)));
  }, cfg.timeoutMs);
  const callerSignal = options.signal;
  const onCallerAbort = (): void => controller.abort(callerAbortError(callerSignal?.reason, state));
  if (callerSignal?.aborted === true) onCallerAbort();
  else callerSignal?.addEventListener("abort", onCallerAbort, { once: true });
  try {
    signal.throwIfAborted();
    return await fetchWithRedirects(input, cfg, signal, state);
  } catch (err) {
    // Whatever broke once the deadline/abort fired (sockets reset under us...), report the cause.
    const reason: unknown = signal.aborted ? signal.reason : err;
    if (reason instanceof FetchError) reason.redirects = [...state.redirects];
    throw reason;
  } finally {
    clearTimeout(timer);
    callerSignal?.removeEventListener("abort", onCallerAbort);
  }
}

function configure(options: GuardedFetchOptions): Config {
  const positive = (value: number | undefined, fallback: number, name: string): number => {
    if (value === undefined) return fallback;
    if (!Number.isFinite(value) || value < 0) throw new TypeError(`guardedFetch: ${name} must be a non-negative number`);
    return value;
  };
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    const lower = name.toLowerCase();
    if (!IGNORED_CALLER_HEADERS.has(lower)) headers[lower] = value;
  }
  headers["user-agent"] = options.userAgent ?? headers["user-agent"] ?? DEFAULT_USER_AGENT;
  headers.accept ??= options.accept === undefined || options.accept.length === 0 ? "*/*" : options.accept.join(", ");
  headers["accept-encoding"] = ACCEPT_ENCODING;
  const ca = options.ca;
  return {
    accept: options.accept === undefined || options.accept.length === 0 ? null : options.accept.map((type) => (type.split(";")[0] ?? "").trim().toLowerCase()),
    maxBytes: positive(options.maxBytes, DEFAULT_MAX_BYTES, "maxBytes"),
    truncate: options.truncate ?? false,
    maxRedirects: positive(options.maxRedirects, DEFAULT_MAX_REDIRECTS, "maxRedirects"),
    connectTimeoutMs: positive(options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, "connectTimeoutMs"),
    timeoutMs: positive(options.timeoutMs, DEFAULT_TIMEOUT_MS, "timeoutMs"),
    allowHttpsDowngrade: options.allowHttpsDowngrade ?? true,
    allow: createAllowList(options.allowHosts, options.allowAddress),
    resolver: options.resolver ?? systemResolver,
    headers,
    ca: ca === undefined ? undefined : typeof ca === "string" || Buffer.isBuffer(ca) ? ca : [...ca],
  };
}

function details(state: FetchState, extra: Omit<FetchErrorDetails, "url" | "redirects"> = {}): FetchErrorDetails {
  return { url: state.url, redirects: [...state.redirects], ...extra };
}

function fail(code: FetchErrorCode, message: string, state: FetchState, extra: Omit<FetchErrorDetails, "url" | "redirects"> = {}): FetchError {
  return new FetchError(code, message, details(state, extra));
}

function callerAbortError(reason: unknown, state: FetchState): FetchError {
  if (reason instanceof FetchError) return reason;
  if (reason instanceof Error && reason.name === "TimeoutError") {
    return fail("timeout", `fetch of ${state.url} timed out (caller's signal)`, state, { cause: reason });
  }
  return fail("aborted", `fetch of ${state.url} aborted by the caller`, state, { cause: reason });
}

async function fetchWithRedirects(input: string | URL, cfg: Config, signal: AbortSignal, state: FetchState): Promise<FetchResult> {
  let url: URL;
  try {
    url = new URL(input);
  } catch (err) {
    throw fail("invalid_url", `not a valid absolute URL: ${String(input).slice(0, 200)}`, state, { cause: err });
  }
  const headers = { ...cfg.headers };
  const seen = new Set<string>();
  for (;;) {
    state.url = url.href;
    checkUrl(url, state);
    seen.add(withoutHash(url));
    const hop = await openHop(url, cfg, headers, signal, state);
    const status = hop.res.statusCode ?? 0;
    const location = hop.res.headers.location;
    if (!REDIRECT_STATUSES.has(status) || location === undefined) {
      try {
        return await finish(hop.res, url, cfg, signal, state);
      } finally {
        hop.close();
      }
    }
    hop.close();
    let next: URL;
    try {
      next = new URL(location, url);
    } catch (err) {
      throw fail("invalid_response", `${url.href} redirected to an invalid Location "${location.slice(0, 200)}"`, state, { status, cause: err });
    }
    state.redirects.push(url.href);
    state.url = next.href;
    if (seen.has(withoutHash(next))) {
      throw fail("too_many_redirects", `redirect loop: ${url.href} redirected back to ${next.href}`, state, { status });
    }
    if (state.redirects.length > cfg.maxRedirects) {
      throw fail("too_many_redirects", `more than ${cfg.maxRedirects} redirects (last to ${next.href})`, state, { status });
    }
    if (url.protocol === "https:" && next.protocol === "http:" && !cfg.allowHttpsDowngrade) {
      throw fail("unsupported_scheme", `refusing the https→http redirect from ${url.href} to ${next.href}`, state, { status });
    }
    if (next.origin !== url.origin) {
      for (const name of CROSS_ORIGIN_DROPPED_HEADERS) delete headers[name];
    }
    url = next;
  }
}

function withoutHash(url: URL): string {
  const copy = new URL(url);
  copy.hash = "";
  return copy.href;
}

function checkUrl(url: URL, state: FetchState): void {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw fail("unsupported_scheme", `only http: and https: URLs can be fetched, not ${url.protocol}`, state);
  }
  if (url.username !== "" || url.password !== "") {
    throw fail("invalid_url", "URLs with credentials (user:password@host) are refused", state);
  }
  if (url.hostname === "") throw fail("invalid_url", `URL without a host: ${url.href}`, state);
}

async function openHop(url: URL, cfg: Config, headers: Record<string, string>, signal: AbortSignal, state: FetchState): Promise<Hop> {
  const hostname = normaliseHostname(url.hostname);
  const port = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
  const literalFamily = isIP(hostname);
  let addresses: ResolvedAddress[];
  if (literalFamily === 4 || literalFamily === 6) {
    addresses = [{ address: hostname, family: literalFamily }];
  } else {
    const nameClass = classifyHostname(hostname);
    if (nameClass !== null && !cfg.allow.allowsName(hostname, port)) {
      throw fail("blocked_address", `refusing to contact ${hostname}: ${nameClass} host name`, state);
    }
    addresses = await resolve(hostname, cfg, signal, state);
  }
  // Every answer must pass: a name with one public and one private address is refused outright.
  for (const { address } of addresses) {
    if (cfg.allow.allowsAddress(address, port, hostname)) continue;
    const refused = classifyAddress(address);
    if (refused !== null) {
      const what = literalFamily === 0 ? `${hostname} resolves to ${address}, which is` : `${address} is`;
      throw fail("blocked_address", `refusing to contact ${url.host}: ${what} ${refused}`, state);
    }
  }
  let lastError: unknown;
  for (const [index, target] of addresses.entries()) {
    try {
      return await connect(url, hostname, port, target, cfg, headers, signal, state);
    } catch (err) {
      lastError = err;
      const another = index < addresses.length - 1 && !signal.aborted;
      if (!(another && err instanceof FetchError && RETRY_NEXT_ADDRESS.has(err))) throw err;
    }
  }
  throw lastError;
}

async function resolve(hostname: string, cfg: Config, signal: AbortSignal, state: FetchState): Promise<ResolvedAddress[]> {
  let answers: readonly ResolvedAddress[];
  try {
    answers = await abortable(cfg.resolver(hostname), signal);
  } catch (err) {
    if (signal.aborted || err instanceof FetchError) throw err;
    const code = (err as NodeJS.ErrnoException | null)?.code;
    throw fail("dns_failure", `could not resolve ${hostname}${code === undefined ? "" : ` (${code})`}`, state, { cause: err });
  }
  const unique = new Map<string, ResolvedAddress>();
  for (const answer of answers) {
    const family = isIP(answer.address);
    if (family !== 4 && family !== 6) throw fail("dns_failure", `resolver returned a non-address "${answer.address}" for ${hostname}`, state);
    unique.set(answer.address, { address: answer.address, family });
  }
  if (unique.size === 0) throw fail("dns_failure", `${hostname} has no addresses`, state);
  return [...unique.values()];
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolvePromise, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolvePromise, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** Errors after which the next resolved address is worth a try (nothing was received yet). */
const RETRY_NEXT_ADDRESS = new WeakSet<FetchError>();

/** A lookup that answers with exactly the validated address, whatever is asked. */
function pinnedLookup(target: ResolvedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all === true) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
}

function connect(
  url: URL,
  hostname: string,
  port: number,
  target: ResolvedAddress,
  cfg: Config,
  headers: Record<string, string>,
  signal: AbortSignal,
  state: FetchState,
): Promise<Hop> {
  return new Promise<Hop>((resolveHop, reject) => {
    const where = hostname === target.address ? hostname : `${hostname} (${target.address})`;
    let connected = false;
    let settled = false;
    let connectTimer: NodeJS.Timeout | undefined;
    const requestOptions: https.RequestOptions = {
      hostname,
      port,
      path: `${url.pathname}${url.search}`,
      method: "GET",
      headers,
      agent: false,
      lookup: pinnedLookup(target),
      family: target.family,
      ca: cfg.ca,
    };
    let req: ClientRequest;
    try {
      req = url.protocol === "https:" ? https.request(requestOptions) : http.request(requestOptions);
    } catch (err) {
      reject(err);
      return;
    }
    const onAbort = (): void => {
      req.destroy(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
    };
    const release = (): void => {
      clearTimeout(connectTimer);
      signal.removeEventListener("abort", onAbort);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    req.on("socket", (socket) => {
      if (!socket.connecting) {
        connected = true;
        return;
      }
      connectTimer = setTimeout(() => {
        const err = fail("timeout", `could not connect to ${where} port ${port} within ${cfg.connectTimeoutMs} ms`, state);
        RETRY_NEXT_ADDRESS.add(err);
        req.destroy(err);
      }, cfg.connectTimeoutMs);
      socket.once("connect", () => {
        connected = true;
        clearTimeout(connectTimer);
      });
    });
    req.on("error", (err) => {
      release();
      if (settled) return;
      settled = true;
      reject(requestError(err, connected, where, port, state));
    });
    req.on("response", (res) => {
      settled = true;
      clearTimeout(connectTimer);
      resolveHop({
        res,
        close() {
          release();
          if (!res.complete) res.destroy();
          req.destroy();
        },
      });
    });
    req.end();
  });
}

function requestError(err: Error, connected: boolean, where: string, port: number, state: FetchState): FetchError {
  if (err instanceof FetchError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? "";
  if (code.startsWith("HPE_")) {
    return fail("invalid_response", `malformed HTTP response from ${where}: ${err.message}`, state, { cause: err });
  }
  const tls = code.startsWith("ERR_TLS_") || code.startsWith("ERR_SSL_") || /CERT|SIGNATURE|SELF_SIGNED/.test(code);
  const message = tls
    ? `TLS handshake with ${where} failed: ${code} ${err.message}`
    : `connection to ${where} port ${port} failed: ${code === "" ? err.message : code}`;
  const fetchError = fail("connection_failed", message, state, { cause: err });
  if (!connected) RETRY_NEXT_ADDRESS.add(fetchError);
  return fetchError;
}

function acceptsType(accept: readonly string[], essence: string): boolean {
  return accept.some((pattern) => {
    if (pattern === "*/*") return true;
    if (essence === "") return false;
    if (pattern.endsWith("/*")) return essence.startsWith(pattern.slice(0, -1));
    return pattern === essence;
  });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}

async function finish(res: IncomingMessage, url: URL, cfg: Config, signal: AbortSignal, state: FetchState): Promise<FetchResult> {
  const status = res.statusCode ?? 0;
  const { essence } = parseContentType(headerValue(res.headers["content-type"]) ?? "");
  const contentType = essence;
  if (status < 200 || status > 299) {
    throw fail("http_status", `${url.href} answered HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ""}`, state, { status, contentType });
  }
  if (cfg.accept !== null && !acceptsType(cfg.accept, essence)) {
    throw fail("unsupported_content_type", `${url.href} is ${essence === "" ? "of no declared type" : essence}, expected ${cfg.accept.join(", ")}`, state, {
      status,
      contentType,
    });
  }
  const codings = parseContentEncoding(headerValue(res.headers["content-encoding"]));
  if (codings === null) {
    throw fail("invalid_response", `${url.href} uses an unsupported content-encoding "${String(res.headers["content-encoding"])}"`, state, { status, contentType });
  }
  const declared = Number(res.headers["content-length"]);
  const wireCap = codings.length === 0 ? cfg.maxBytes : cfg.maxBytes + RAW_SLACK_BYTES;
  if (!cfg.truncate && Number.isFinite(declared) && declared > wireCap) {
    throw fail("too_large", `${url.href} declares ${declared} bytes, over the ${cfg.maxBytes}-byte cap`, state, { status, contentType });
  }
  const { body, truncated } = await readBody(res, codings, cfg, signal, state, { status, contentType });
  return { url: url.href, status, headers: res.headers, body, contentType, truncated, redirects: [...state.redirects] };
}

/**
 * Compressed bytes may exceed maxBytes by this much before the fetch stops:
 * one socket read of slack, so the decoded cap (normally hit first) decides,
 * while a stream that decodes to almost nothing still cannot eat bandwidth.
 */
const RAW_SLACK_BYTES = 64 * 1024;

async function readBody(
  res: IncomingMessage,
  codings: readonly string[],
  cfg: Config,
  signal: AbortSignal,
  state: FetchState,
  extra: { status: number; contentType: string },
): Promise<{ body: Buffer; truncated: boolean }> {
  const { maxBytes, truncate } = cfg;
  let source: Readable = res;
  let rawCapHit = false;
  if (codings.length > 0) {
    // Count wire bytes first, then undo the codings in reverse order of application.
    // At the raw cap the counter passes what fits, ends its output (so the
    // decoders flush what they have) and never takes another chunk: the
    // socket stays paused until it is destroyed below.
    let room = maxBytes + RAW_SLACK_BYTES;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        if (chunk.length <= room) {
          room -= chunk.length;
          callback(null, chunk);
          return;
        }
        rawCapHit = true;
        this.push(chunk.subarray(0, room));
        this.push(null);
      },
    });
    const stages: Duplex[] = [counter];
    for (const coding of [...codings].reverse()) stages.push(createDecoder(coding));
    pipeline([res, ...stages], () => {});
    source = stages.at(-1) ?? res;
  }
  const onAbort = (): void => {
    res.destroy(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
  };
  signal.addEventListener("abort", onAbort, { once: true });
  const chunks: Buffer[] = [];
  let total = 0;
  let truncated = false;
  const tooLarge = (): FetchError => fail("too_large", `${state.url} is larger than the ${maxBytes}-byte cap`, state, extra);
  try {
    signal.throwIfAborted();
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        if (total + chunk.length > maxBytes) {
          if (!truncate) throw tooLarge();
          chunks.push(chunk.subarray(0, maxBytes - total));
          total = maxBytes;
          truncated = true;
          break;
        }
        chunks.push(chunk);
        total += chunk.length;
      }
    } catch (err) {
      // A decoder complaining about the input we cut at the raw cap is not the server's fault.
      if (!rawCapHit || err instanceof FetchError) throw err;
    }
    if (rawCapHit && !truncated) {
      if (!truncate) throw tooLarge();
      truncated = true;
    }
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    if (err instanceof FetchError) throw err;
    const code = (err as NodeJS.ErrnoException | null)?.code ?? "";
    if (code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE" || code === "EPIPE" || code === "ETIMEDOUT") {
      throw fail("connection_failed", `connection closed before the body of ${state.url} was complete`, state, { ...extra, cause: err });
    }
    throw fail("invalid_response", `could not decode the body of ${state.url}: ${(err as Error).message}`, state, { ...extra, cause: err });
  } finally {
    signal.removeEventListener("abort", onAbort);
    if (truncated || !res.complete) res.destroy();
    if (source !== res) source.destroy();
  }
  return { body: Buffer.concat(chunks, total), truncated };
}
