// A loopback OpenAI-compatible embeddings server for tests (127.0.0.1, random port).
//
// Behaves like api.openai.com/v1/embeddings where the tests care:
// - Bearer auth (401 invalid_api_key), OpenAI's error JSON {error:{message,type,param,code}}.
// - Body validation: model (404 model_not_found), input string | string[] |
//   token arrays, ≤ 2048 items, no empty strings, ≤ 8191 tokens per input,
//   ≤ 300,000 tokens per request (400), encoding_format, dimensions (ada-002
//   rejects it; ≤ the model's native size).
// - Deterministic vectors: a hash of (model, text) seeds a PRNG for the
//   model's native size; `dimensions` truncates and renormalises (like the
//   text-embedding-3 models). fakeEmbedding() gives the expected vector.
// - float or base64 (little-endian float32) encoding, usage.prompt_tokens
//   (cl100k_base via js-tiktoken), x-request-id.
// - Rate limits: TPM and RPM over a sliding window (60 s, configurable so
//   tests run fast), x-ratelimit-{limit,remaining,reset}-{requests,tokens} on
//   every response, 429 rate_limit_exceeded with Retry-After / retry-after-ms
//   computed from the window when over. Rejected requests count against RPM
//   (as OpenAI documents); they consume no tokens.
// - Latency: fixed + per token. Faults: setFault() for the next N requests.

import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Tiktoken } from "js-tiktoken/lite";
import cl100k from "js-tiktoken/ranks/cl100k_base";

export const FAKE_MODELS: Readonly<Record<string, number>> = {
  "text-embedding-3-small": 1536,
  "text-embedding-3-large": 3072,
  "text-embedding-ada-002": 1536,
};

export interface FakeOpenAIOptions {
  /** Accepted bearer token. Default "sk-test". */
  apiKey?: string;
  /** Model name → native dimensions. Default FAKE_MODELS. */
  models?: Record<string, number>;
  /** Tokens per window. Default 1,000,000. */
  tpm?: number;
  /** Requests per window. Default 3,000. */
  rpm?: number;
  /** Sliding window length. Default 60,000 ms. */
  windowMs?: number;
  /** false: no x-ratelimit-* headers and no limits (like Ollama/vLLM). Default true. */
  rateLimits?: boolean;
  /** Fixed latency of a successful response. Default 0. */
  latencyMs?: number;
  /** Extra latency per input token. Default 0. */
  latencyPerTokenMs?: number;
  maxInputs?: number;
  maxTokensPerInput?: number;
  maxTokensPerRequest?: number;
}

interface FaultBase {
  /** How many requests the fault applies to. Default 1. */
  count?: number;
  /** Let this many requests through untouched first. Default 0. */
  after?: number;
  /** Delay before an injected error response (status, insufficient_quota). Default 0. */
  delayMs?: number;
}

export type Fault = FaultBase &
  (
    | {
        /** An error response: 500/502/503, 429 rate_limit_exceeded, 408... */
        kind: "status";
        status: number;
        code?: string;
        retryAfterSeconds?: number;
        retryAfterMs?: number;
      }
    /** Never answer (until the client gives up or the server closes). */
    | { kind: "hang" }
    /** 429 insufficient_quota. */
    | { kind: "insufficient_quota" }
    /** Answer 200 with vectors of this many dimensions. */
    | { kind: "dimensions"; dimensions: number }
    /** Answer 200 with a truncated JSON body. */
    | { kind: "malformed" }
    /** Answer 200 with data[] in reverse order (indices stay correct). */
    | { kind: "reorder" }
  );

export interface FakeRequestRecord {
  /** ms since server start (arrival). */
  at: number;
  status: number;
  model: unknown;
  dimensions: unknown;
  encodingFormat: unknown;
  inputs: number;
  tokens: number;
}

export interface FakeStats {
  /** Every request to /v1/embeddings, whatever the outcome. */
  requests: number;
  /** Inputs and tokens of successful (200) requests. */
  inputs: number;
  tokens: number;
  rateLimited429: number;
  byStatus: Record<number, number>;
  /** Requests whose client disconnected before the answer (aborted, timed out). */
  clientAborted: number;
  log: FakeRequestRecord[];
}

export interface FakeOpenAI {
  /** Base URL including /v1. */
  url: string;
  apiKey: string;
  windowMs: number;
  tpm: number;
  rpm: number;
  stats: FakeStats;
  setFault(fault: Fault | null): void;
  /** Changes latency at runtime. */
  setLatency(latencyMs: number, latencyPerTokenMs?: number): void;
  close(): Promise<void>;
}

const encoder = new Tiktoken(cl100k);
export function fakeCountTokens(text: string): number {
  return encoder.encode(text, [], []).length;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The vector the fake returns for `text` (deterministic; unit length). */
export function fakeEmbedding(text: string, options: { model?: string; dimensions?: number; nativeDimensions?: number } = {}): Float32Array {
  const model = options.model ?? "text-embedding-3-small";
  const native = options.nativeDimensions ?? FAKE_MODELS[model] ?? 1536;
  const dims = options.dimensions ?? native;
  // mulberry32 seeded by the hash; the first `dims` of the native vector, renormalised.
  let a = fnv1a(`${model}\u0000${text}`) | 0;
  const raw = new Float64Array(dims);
  let sq = 0;
  for (let i = 0; i < dims; i++) {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    raw[i] = u * 2 - 1;
    sq += raw[i]! * raw[i]!;
  }
  const inv = sq > 0 ? 1 / Math.sqrt(sq) : 0;
  const out = new Float32Array(dims);
  for (let i = 0; i < dims; i++) out[i] = raw[i]! * inv;
  return out;
}

/** OpenAI-style duration: "20ms", "1.5s", "6m0s", "1m30.5s". */
export function formatDuration(ms: number): string {
  const v = Math.max(0, ms);
  if (v < 1000) return `${Math.ceil(v)}ms`;
  if (v < 60_000) return `${Number((v / 1000).toFixed(3))}s`;
  const m = Math.floor(v / 60_000);
  return `${m}m${Number(((v - m * 60_000) / 1000).toFixed(3))}s`;
}

class WindowLog {
  entries: { at: number; amount: number }[] = [];
  readonly limit: number;
  readonly windowMs: number;
  constructor(limit: number, windowMs: number) {
    this.limit = limit;
    this.windowMs = windowMs;
  }
  used(now: number): number {
    const cutoff = now - this.windowMs;
    while (this.entries.length > 0 && this.entries[0]!.at <= cutoff) this.entries.shift();
    let s = 0;
    for (const e of this.entries) s += e.amount;
    return s;
  }
  /** ms until `need` fits (0 = now). */
  waitFor(need: number, now: number): number {
    let used = this.used(now);
    if (used + need <= this.limit) return 0;
    for (const e of this.entries) {
      used -= e.amount;
      if (used + need <= this.limit) return e.at + this.windowMs - now;
    }
    return this.windowMs; // bigger than the whole limit: never fits
  }
  /** ms until the window is empty again. */
  resetIn(now: number): number {
    this.used(now);
    const last = this.entries[this.entries.length - 1];
    return last === undefined ? 0 : last.at + this.windowMs - now;
  }
  add(amount: number, now: number): void {
    this.entries.push({ at: now, amount });
  }
}

interface ApiErrorBody {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

class HttpError extends Error {
  readonly status: number;
  readonly body: ApiErrorBody;
  constructor(status: number, body: ApiErrorBody) {
    super(body.message);
    this.status = status;
    this.body = body;
  }
}

function invalid(message: string, param: string | null = null, code: string | null = null): HttpError {
  return new HttpError(400, { message, type: "invalid_request_error", param, code });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    req.on("error", reject);
  });
}

export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const apiKey = options.apiKey ?? "sk-test";
  const models = options.models ?? FAKE_MODELS;
  const windowMs = options.windowMs ?? 60_000;
  const tpm = options.tpm ?? 1_000_000;
  const rpm = options.rpm ?? 3_000;
  const limitsOn = options.rateLimits ?? true;
  let latencyMs = options.latencyMs ?? 0;
  let latencyPerTokenMs = options.latencyPerTokenMs ?? 0;
  const maxInputs = options.maxInputs ?? 2048;
  const maxTokensPerInput = options.maxTokensPerInput ?? 8191;
  const maxTokensPerRequest = options.maxTokensPerRequest ?? 300_000;

  const tokenLog = new WindowLog(tpm, windowMs);
  const requestLog = new WindowLog(rpm, windowMs);
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  let fault: (Fault & { remaining: number; skip: number }) | null = null;

  const stats: FakeStats = { requests: 0, inputs: 0, tokens: 0, rateLimited429: 0, byStatus: {}, clientAborted: 0, log: [] };

  function rateHeaders(res: ServerResponse, at: number): void {
    if (!limitsOn) return;
    res.setHeader("x-ratelimit-limit-requests", String(rpm));
    res.setHeader("x-ratelimit-limit-tokens", String(tpm));
    res.setHeader("x-ratelimit-remaining-requests", String(Math.max(0, rpm - requestLog.used(at))));
    res.setHeader("x-ratelimit-remaining-tokens", String(Math.max(0, tpm - tokenLog.used(at))));
    res.setHeader("x-ratelimit-reset-requests", formatDuration(requestLog.resetIn(at)));
    res.setHeader("x-ratelimit-reset-tokens", formatDuration(tokenLog.resetIn(at)));
  }

  function send(res: ServerResponse, status: number, body: string, record: FakeRequestRecord, extra: Record<string, string> = {}): void {
    if (res.destroyed) return;
    record.status = status;
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
    if (status === 429) stats.rateLimited429++;
    res.statusCode = status;
    res.setHeader("content-type", "application/json");
    res.setHeader("x-request-id", `req_${randomBytes(12).toString("hex")}`);
    res.setHeader("openai-organization", "org-fake");
    res.setHeader("openai-version", "2020-10-01");
    for (const [k, v] of Object.entries(extra)) res.setHeader(k, v);
    rateHeaders(res, now());
    res.end(body);
  }

  function sendError(res: ServerResponse, err: HttpError, record: FakeRequestRecord, extra?: Record<string, string>): void {
    send(res, err.status, JSON.stringify({ error: err.body }), record, extra);
  }

  function takeFault(): Fault | null {
    if (fault === null) return null;
    if (fault.skip > 0) {
      fault.skip--;
      return null;
    }
    const f = fault;
    f.remaining--;
    if (f.remaining <= 0) fault = null;
    return f;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrival = now();
    const record: FakeRequestRecord = { at: arrival, status: 0, model: undefined, dimensions: undefined, encodingFormat: undefined, inputs: 0, tokens: 0 };
    let answered = false;
    res.on("close", () => {
      if (!res.writableFinished && !answered) stats.clientAborted++;
    });
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method !== "POST" || url.pathname !== "/v1/embeddings") {
      answered = true;
      sendError(res, new HttpError(404, { message: `Invalid URL (${req.method} ${url.pathname})`, type: "invalid_request_error", param: null, code: null }), record);
      return;
    }
    stats.requests++;
    stats.log.push(record);
    const body = await readBody(req);

    const auth = req.headers.authorization;
    if (auth === undefined || !auth.startsWith("Bearer ")) {
      answered = true;
      return sendError(res, new HttpError(401, { message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", type: "invalid_request_error", param: null, code: null }), record);
    }
    const key = auth.slice("Bearer ".length);
    if (key !== apiKey) {
      answered = true;
      const shown = key.length > 8 ? `${key.slice(0, 3)}*****${key.slice(-4)}` : key;
      return sendError(res, new HttpError(401, { message: `Incorrect API key provided: ${shown}. You can find your API key at https://platform.openai.com/account/api-keys.`, type: "invalid_request_error", param: null, code: "invalid_api_key" }), record);
    }

    let inputs: string[] | number[][];
    let tokensPer: number[];
    let model: string;
    let dims: number;
    let format: "float" | "base64";
    try {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        throw invalid("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)");
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw invalid("The request body must be a JSON object.");
      const b = parsed as Record<string, unknown>;
      record.model = b.model;
      record.dimensions = b.dimensions;
      record.encodingFormat = b.encoding_format;
      if (typeof b.model !== "string" || b.model === "") throw invalid("you must provide a model parameter", "model");
      model = b.model;
      const native = models[model];
      if (native === undefined) {
        throw new HttpError(404, { message: `The model \`${model}\` does not exist or you do not have access to it.`, type: "invalid_request_error", param: null, code: "model_not_found" });
      }
      const input = b.input;
      if (typeof input === "string") inputs = [input];
      else if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === "string")) inputs = input as string[];
      else if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === "number")) inputs = [input as number[]];
      else if (Array.isArray(input) && input.length > 0 && input.every((x) => Array.isArray(x) && x.length > 0 && x.every((y) => typeof y === "number"))) inputs = input as number[][];
      else throw invalid("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", "input");
      if (inputs.length > maxInputs) throw invalid(`'$.input' is invalid: at most ${maxInputs} inputs per request, got ${inputs.length}.`, "input");
      tokensPer = inputs.map((x, i) => {
        if (typeof x === "string") {
          if (x.length === 0) throw invalid(`'$.input[${i}]' is invalid: input cannot be an empty string.`, "input");
          return fakeCountTokens(x);
        }
        return x.length;
      });
      tokensPer.forEach((t) => {
        if (t > maxTokensPerInput) {
          throw invalid(`This model's maximum context length is ${maxTokensPerInput + 1} tokens, however you requested ${t} tokens (${t} in your prompt; 0 for the completion). Please reduce your prompt; or completion length.`);
        }
      });
      const total = tokensPer.reduce((a, c) => a + c, 0);
      record.inputs = inputs.length;
      record.tokens = total;
      if (total > maxTokensPerRequest) {
        throw new HttpError(400, { message: `Requested ${total} tokens, max ${maxTokensPerRequest} tokens per request`, type: "max_tokens_per_request", param: null, code: "max_tokens_per_request" });
      }
      const ef = b.encoding_format;
      if (ef === undefined) format = "float";
      else if (ef === "float" || ef === "base64") format = ef;
      else throw invalid(`'${String(ef)}' is not one of ['float', 'base64'] - 'encoding_format'`, "encoding_format");
      if (b.dimensions === undefined || b.dimensions === null) dims = native;
      else {
        if (model === "text-embedding-ada-002") throw invalid("This model does not support specifying dimensions.", "dimensions");
        if (typeof b.dimensions !== "number" || !Number.isInteger(b.dimensions) || b.dimensions < 1 || b.dimensions > native) {
          throw invalid(`Invalid value for 'dimensions': must be an integer between 1 and ${native}.`, "dimensions");
        }
        dims = b.dimensions;
      }
    } catch (err) {
      answered = true;
      if (err instanceof HttpError) return sendError(res, err, record);
      throw err;
    }
    const total = record.tokens;

    const f = takeFault();
    if (f !== null && f.delayMs !== undefined && f.delayMs > 0 && (f.kind === "status" || f.kind === "insufficient_quota")) {
      await new Promise((r) => setTimeout(r, f.delayMs));
      if (res.destroyed) return;
    }
    if (f !== null) {
      switch (f.kind) {
        case "hang":
          return; // never answered; counted as clientAborted when the client gives up
        case "insufficient_quota":
          answered = true;
          return sendError(res, new HttpError(429, { message: "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.", type: "insufficient_quota", param: null, code: "insufficient_quota" }), record);
        case "status": {
          answered = true;
          const extra: Record<string, string> = {};
          if (f.retryAfterSeconds !== undefined) extra["retry-after"] = String(f.retryAfterSeconds);
          if (f.retryAfterMs !== undefined) extra["retry-after-ms"] = String(f.retryAfterMs);
          const type = f.status === 429 ? "requests" : f.status >= 500 ? "server_error" : "invalid_request_error";
          const code = f.code ?? (f.status === 429 ? "rate_limit_exceeded" : null);
          const message = f.status === 429 ? "Rate limit reached (injected fault)." : `The server had an error while processing your request (injected ${f.status}).`;
          return sendError(res, new HttpError(f.status, { message, type, param: null, code }), record, extra);
        }
        default:
          break; // dimensions / malformed / reorder: shape the success response below
      }
    }

    if (limitsOn) {
      const waitTokens = tokenLog.waitFor(total, arrival);
      const waitRequests = requestLog.waitFor(1, arrival);
      if (waitTokens > 0 || waitRequests > 0) {
        const which = waitTokens > 0 ? "tokens" : "requests";
        const limit = waitTokens > 0 ? tpm : rpm;
        const used = waitTokens > 0 ? tokenLog.used(arrival) : requestLog.used(arrival);
        const requested = waitTokens > 0 ? total : 1;
        const waitMs = Math.max(1, Math.ceil(Math.max(waitTokens, waitRequests)));
        requestLog.add(1, arrival); // rejected requests count against RPM
        answered = true;
        return sendError(
          res,
          new HttpError(429, {
            message: `Rate limit reached for ${model} in organization org-fake on ${which} per min (${which === "tokens" ? "TPM" : "RPM"}): Limit ${limit}, Used ${used}, Requested ${requested}. Please try again in ${formatDuration(waitMs)}. Visit https://platform.openai.com/account/rate-limits to learn more.`,
            type: which,
            param: null,
            code: "rate_limit_exceeded",
          }),
          record,
          { "retry-after": String(Math.ceil(waitMs / 1000)), "retry-after-ms": String(waitMs) },
        );
      }
      tokenLog.add(total, arrival);
      requestLog.add(1, arrival);
    }

    const outDims = f?.kind === "dimensions" ? f.dimensions : dims;
    const nativeDims = Math.max(models[model]!, outDims);
    const data = inputs.map((x, index) => {
      const text = typeof x === "string" ? x : x.join(",");
      const v = fakeEmbedding(text, { model, dimensions: outDims, nativeDimensions: nativeDims });
      const embedding = format === "base64" ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") : Array.from(v);
      return { object: "embedding", index, embedding };
    });
    if (f?.kind === "reorder") data.reverse();
    const payload =
      f?.kind === "malformed"
        ? '{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.0123,'
        : JSON.stringify({ object: "list", data, model, usage: { prompt_tokens: total, total_tokens: total } });

    const delay = latencyMs + latencyPerTokenMs * total;
    const respond = () => {
      if (res.destroyed) return;
      answered = true;
      stats.inputs += inputs.length;
      stats.tokens += total;
      send(res, 200, payload, record, { "openai-model": model, "openai-processing-ms": String(Math.round(delay)) });
    };
    if (delay > 0) {
      const timer = setTimeout(respond, delay);
      res.on("close", () => clearTimeout(timer));
    } else respond();
  }

  const sockets = new Set<import("node:net").Socket>();
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end(JSON.stringify({ error: { message: String(err), type: "server_error", param: null, code: null } }));
      }
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    apiKey,
    windowMs,
    tpm,
    rpm,
    stats,
    setFault(next: Fault | null) {
      fault = next === null ? null : { ...next, remaining: next.count ?? 1, skip: next.after ?? 0 };
    },
    setLatency(ms: number, perTokenMs = 0) {
      latencyMs = ms;
      latencyPerTokenMs = perTokenMs;
    },
    close() {
      return new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
    },
  };
}
