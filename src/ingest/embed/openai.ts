// Embedder for OpenAI and OpenAI-compatible servers (Ollama, vLLM, LiteLLM, TEI).
//
// - Uses the official `openai` client with its own retries disabled: retries,
//   backoff and rate limiting live here, in one place (see rate-limit.ts).
// - Inputs are packed into requests by batcher.ts and sent with bounded
//   concurrency (p-limit, shared by all embed() calls of the instance).
// - Every response is verified: one vector per input, indices a permutation of
//   0..n-1 (results are placed by `index`, not by position), every vector of
//   exactly `dimensions` floats. A wrong size is a configuration error and
//   fails loudly (EmbeddingError "dimension_mismatch"), never silently stored.
// - Error policy: insufficient_quota → "quota_exhausted" at once and the rest of
//   the embed() call is aborted; 401/403 → "auth"; 400/404/422 (and other 4xx)
//   → "bad_request"; 408/409/429/5xx, timeouts, connection errors and
//   malformed responses are retried (capped exponential backoff with full
//   jitter, or the server's Retry-After) up to maxRetries, then "transient".

import { endianness } from "node:os";
import OpenAI from "openai";
import pLimit from "p-limit";
import type { Embedder, EmbeddingResult } from "../types.ts";
import { EmbeddingError } from "../types.ts";
import { planBatches } from "./batcher.ts";
import type { Batch } from "./batcher.ts";
import { RateLimiter, parseDuration, retryAfterMs } from "./rate-limit.ts";
import type { RateLimitSnapshot } from "./rate-limit.ts";
import { createTokenCounter } from "../tokens.ts";
import type { TokenCounterKind } from "../tokens.ts";

export type EmbedderEvent =
  /** One HTTP attempt finished (status null: no usable HTTP response: timeout, connection error, unparsable body). */
  | { type: "request"; inputs: number; tokens: number; ms: number; status: number | null }
  /** An attempt failed and will be retried after waitMs. */
  | { type: "retry"; status: number | null; waitMs: number; attempt: number; reason: string }
  /** A request waited waitMs for the rate-limit budget before being sent. */
  | { type: "throttle"; waitMs: number };

export interface OpenAIEmbedderOptions {
  apiKey: string;
  /** Default https://api.openai.com/v1 (or OPENAI_BASE_URL). Include the /v1 for compatible servers. */
  baseURL?: string;
  model: string;
  /** Expected vector length; every returned vector is checked against it. */
  dimensions: number;
  /**
   * Send `dimensions` in the request (shortened text-embedding-3 vectors).
   * Default: true for text-embedding-3* models, false otherwise (ada-002 and
   * many compatible servers reject the parameter).
   */
  sendDimensions?: boolean;
  /** Wire format. Default "base64" (about 4× smaller than JSON floats). */
  encodingFormat?: "float" | "base64";
  maxInputsPerRequest?: number;
  maxTokensPerRequest?: number;
  maxTokensPerInput?: number;
  /** Requests in flight per instance. Default 4. */
  concurrency?: number;
  /** Retries after the first attempt. Default 6. */
  maxRetries?: number;
  requestTimeoutMs?: number;
  /** Token counting for batching and budgets. Default "cl100k_base" (text-embedding-3-*, ada-002). */
  tokenizer?: TokenCounterKind;
  /** Tokens per window the instance may use (self-imposed share or known limit). Learned from headers too. */
  tpmLimit?: number;
  /** Requests per window the instance may use. Learned from headers too. */
  rpmLimit?: number;
  /** The window the limits refer to. Default 60,000 ms (OpenAI's per-minute limits); tests shorten it. */
  rateLimitWindowMs?: number;
  /** Backoff base and cap for retries without Retry-After. Defaults 500 ms and 30 s. */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  onEvent?: (event: EmbedderEvent) => void;
  /** Custom fetch for the client (proxies, tests). */
  fetch?: typeof fetch;
}

export interface OpenAIEmbedder extends Embedder {
  readonly provider: "openai";
  /** Current view of the rate-limit budgets (for metrics and debugging). */
  rateLimits(): RateLimitSnapshot;
}

const LITTLE_ENDIAN = endianness() === "LE";

/** A 200 response whose body cannot be used; retried like a transient failure. */
class MalformedResponseError extends Error {
  override name = "MalformedResponseError";
}

interface EmbedContext {
  controller: AbortController;
  failure: EmbeddingError | undefined;
  requests: number;
  tokens: number;
  vectors: Float32Array[];
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function decodeBase64(s: string): Float32Array {
  const buf = Buffer.from(s, "base64");
  if (buf.byteLength % 4 !== 0) throw new MalformedResponseError(`base64 embedding of ${buf.byteLength} bytes is not a float32 array`);
  const out = new Float32Array(buf.byteLength / 4);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(buf);
  } else {
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}

function decodeVector(embedding: unknown): Float32Array {
  let v: Float32Array;
  if (typeof embedding === "string") v = decodeBase64(embedding);
  else if (Array.isArray(embedding)) {
    v = new Float32Array(embedding.length);
    for (let i = 0; i < embedding.length; i++) {
      const x: unknown = embedding[i];
      if (typeof x !== "number") throw new MalformedResponseError(`embedding component ${i} is not a number`);
      v[i] = x;
    }
  } else if (embedding instanceof Float32Array) v = embedding;
  else throw new MalformedResponseError(`embedding has unexpected type ${typeof embedding}`);
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]!)) throw new MalformedResponseError(`embedding component ${i} is not finite`);
  }
  return v;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function describe(err: unknown): string {
  if (err instanceof OpenAI.APIError) return `${err.status ?? "no status"} ${err.message}`;
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

type Classified =
  | { fatal: EmbeddingError }
  | { retry: true; status: number | null; headers: Headers | undefined; reason: string; rateLimited: boolean };

export function createOpenAIEmbedder(options: OpenAIEmbedderOptions): OpenAIEmbedder {
  const model = options.model;
  const dimensions = positiveInt("dimensions", options.dimensions);
  const sendDimensions = options.sendDimensions ?? /^text-embedding-3/.test(model);
  const encodingFormat = options.encodingFormat ?? "base64";
  const maxInputsPerRequest = positiveInt("maxInputsPerRequest", options.maxInputsPerRequest ?? 2048);
  const maxTokensPerRequest = positiveInt("maxTokensPerRequest", options.maxTokensPerRequest ?? 300_000);
  const maxTokensPerInput = positiveInt("maxTokensPerInput", options.maxTokensPerInput ?? 8191);
  const concurrency = positiveInt("concurrency", options.concurrency ?? 4);
  const maxRetries = options.maxRetries ?? 6;
  if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new RangeError(`maxRetries must be a non-negative integer, got ${maxRetries}`);
  const requestTimeoutMs = positiveInt("requestTimeoutMs", options.requestTimeoutMs ?? 60_000);
  const retryBaseDelayMs = options.retryBaseDelayMs ?? 500;
  const retryMaxDelayMs = options.retryMaxDelayMs ?? 30_000;
  const countTokens = createTokenCounter(options.tokenizer ?? "cl100k_base");
  const onEvent = options.onEvent;
  const where = options.baseURL ?? "the OpenAI API";

  const client = new OpenAI({
    apiKey: options.apiKey,
    ...(options.baseURL !== undefined ? { baseURL: options.baseURL } : {}),
    ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
    maxRetries: 0,
    timeout: requestTimeoutMs,
  });
  const limiter = new RateLimiter({
    ...(options.tpmLimit !== undefined ? { tokenLimit: options.tpmLimit } : {}),
    ...(options.rpmLimit !== undefined ? { requestLimit: options.rpmLimit } : {}),
    ...(options.rateLimitWindowMs !== undefined ? { windowMs: options.rateLimitWindowMs } : {}),
  });
  const limit = pLimit(concurrency);

  function emit(event: EmbedderEvent): void {
    if (onEvent === undefined) return;
    try {
      onEvent(event);
    } catch {
      // A failing metrics hook must not fail the embedding.
    }
  }

  function backoff(attempt: number): number {
    // Full jitter: uniform in [0, min(cap, base·2^(attempt-1))].
    const ceiling = Math.min(retryMaxDelayMs, retryBaseDelayMs * 2 ** (attempt - 1));
    return Math.round(Math.random() * ceiling);
  }

  function classify(err: unknown): Classified {
    if (err instanceof EmbeddingError) return { fatal: err };
    if (err instanceof OpenAI.APIConnectionTimeoutError) {
      return { retry: true, status: null, headers: undefined, reason: `timeout after ${requestTimeoutMs} ms`, rateLimited: false };
    }
    if (err instanceof OpenAI.APIConnectionError) {
      return { retry: true, status: null, headers: undefined, reason: `connection error: ${describe(err.cause ?? err)}`, rateLimited: false };
    }
    if (err instanceof OpenAI.APIError && typeof err.status === "number") {
      const status = err.status;
      const headers = err.headers;
      const msg = `${where} answered ${status} for model "${model}": ${err.message}`;
      if (status === 429) {
        if (err.code === "insufficient_quota" || err.type === "insufficient_quota") {
          return { fatal: new EmbeddingError("quota_exhausted", msg, { cause: err }) };
        }
        return { retry: true, status, headers, reason: "rate limited", rateLimited: true };
      }
      if (status === 401 || status === 403) return { fatal: new EmbeddingError("auth", msg, { cause: err }) };
      if (status === 408 || status === 409 || status >= 500) {
        return { retry: true, status, headers, reason: `HTTP ${status}`, rateLimited: false };
      }
      return { fatal: new EmbeddingError("bad_request", msg, { cause: err }) };
    }
    // Malformed bodies (bad JSON, wrong shape) and anything unexpected: retry, then "transient".
    return { retry: true, status: null, headers: undefined, reason: describe(err), rateLimited: false };
  }

  /** ms to wait before retrying a retryable failure. */
  function retryDelay(c: Extract<Classified, { retry: true }>, attempt: number): { waitMs: number; serverSaid: boolean } {
    const ra = retryAfterMs(c.headers);
    if (ra !== undefined) return { waitMs: Math.min(ra, 10 * 60_000), serverSaid: true };
    if (c.rateLimited && c.headers !== undefined) {
      // No Retry-After: wait for the exhausted budget to reset, if the headers say which.
      const resets: number[] = [];
      for (const kind of ["tokens", "requests"] as const) {
        if (c.headers.get(`x-ratelimit-remaining-${kind}`)?.trim() === "0") {
          const ms = parseDuration(c.headers.get(`x-ratelimit-reset-${kind}`));
          if (ms !== undefined) resets.push(ms);
        }
      }
      if (resets.length > 0) return { waitMs: Math.min(Math.max(...resets), 10 * 60_000), serverSaid: true };
    }
    return { waitMs: backoff(attempt), serverSaid: false };
  }

  function decodeResponse(body: unknown, batch: Batch): Float32Array[] {
    const n = batch.end - batch.start;
    if (typeof body !== "object" || body === null || !Array.isArray((body as { data?: unknown }).data)) {
      throw new MalformedResponseError(`response from ${where} has no data array`);
    }
    const data = (body as { data: unknown[] }).data;
    if (data.length !== n) throw new MalformedResponseError(`sent ${n} inputs but ${where} returned ${data.length} embeddings`);
    const out = new Array<Float32Array | undefined>(n).fill(undefined);
    for (const item of data) {
      const index = typeof item === "object" && item !== null ? (item as { index?: unknown }).index : undefined;
      if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= n || out[index] !== undefined) {
        throw new MalformedResponseError(`embedding index ${String(index)} is out of range or duplicated (batch of ${n})`);
      }
      const vector = decodeVector((item as { embedding?: unknown }).embedding);
      if (vector.length !== dimensions) {
        throw new EmbeddingError(
          "dimension_mismatch",
          `model "${model}" at ${where} returned a vector of ${vector.length} dimensions for input ${batch.start + index}, ` +
            `but the embedder is configured for ${dimensions}; fix the model/dimensions configuration ` +
            `(and sendDimensions) — the index column expects vector(${dimensions})`,
        );
      }
      out[index] = vector;
    }
    return out as Float32Array[];
  }

  async function runBatch(texts: string[], batch: Batch, ctx: EmbedContext): Promise<void> {
    const signal = ctx.controller.signal;
    const input = texts.slice(batch.start, batch.end);
    const inputs = input.length;
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted();
      const reservation = await limiter.acquire(batch.tokens, signal);
      if (reservation.waitedMs >= 1) emit({ type: "throttle", waitMs: Math.round(reservation.waitedMs) });
      const started = performance.now();
      ctx.requests++;
      let httpStatus: number | null = null;
      let billed: number | undefined;
      try {
        const { data, response } = await client.embeddings
          .create(
            { model, input, encoding_format: encodingFormat, ...(sendDimensions ? { dimensions } : {}) },
            { signal, timeout: requestTimeoutMs, maxRetries: 0 },
          )
          .withResponse();
        httpStatus = response.status;
        limiter.observe(response.headers);
        const usage: unknown = (data as { usage?: { prompt_tokens?: unknown } }).usage?.prompt_tokens;
        billed = typeof usage === "number" && Number.isFinite(usage) ? usage : undefined;
        reservation.settle(billed);
        emit({ type: "request", inputs, tokens: billed ?? batch.tokens, ms: Math.round(performance.now() - started), status: httpStatus });
        const vectors = decodeResponse(data, batch);
        for (let i = 0; i < vectors.length; i++) ctx.vectors[batch.start + i] = vectors[i]!;
        ctx.tokens += billed ?? batch.tokens;
        return;
      } catch (err) {
        if (signal.aborted) {
          reservation.settle();
          throw ctx.failure ?? new EmbeddingError("aborted", "embedding aborted", { cause: signal.reason });
        }
        const c = classify(err);
        if (httpStatus === null) {
          // No successful response: record the attempt.
          const status = err instanceof OpenAI.APIError && typeof err.status === "number" ? err.status : null;
          if (status !== null) limiter.observe(err instanceof OpenAI.APIError ? err.headers : undefined);
          // A rejected request consumed no tokens; a timeout may have (keep the estimate).
          reservation.settle(status !== null ? 0 : undefined);
          emit({ type: "request", inputs, tokens: batch.tokens, ms: Math.round(performance.now() - started), status });
        }
        if ("fatal" in c) throw c.fatal;
        if (attempt > maxRetries) {
          throw new EmbeddingError(
            "transient",
            `embedding request (${inputs} inputs, ${batch.tokens} tokens) to ${where} failed after ${attempt} attempts; last error: ${c.reason}: ${describe(err)}`,
            { cause: err },
          );
        }
        const { waitMs, serverSaid } = retryDelay(c, attempt);
        // The server asked everybody to wait: hold all requests of this instance, not just this one.
        if (serverSaid) limiter.pause(waitMs);
        emit({ type: "retry", status: c.status, waitMs, attempt, reason: c.reason });
        await sleep(waitMs, signal).catch(() => {
          throw ctx.failure ?? new EmbeddingError("aborted", "embedding aborted", { cause: signal.reason });
        });
      }
    }
  }

  async function embed(texts: string[], opts?: { signal?: AbortSignal }): Promise<EmbeddingResult> {
    const external = opts?.signal;
    if (external?.aborted) throw new EmbeddingError("aborted", "embedding aborted before start", { cause: external.reason });
    if (texts.length === 0) return { vectors: [], tokens: 0, requests: 0 };

    const counts = new Array<number>(texts.length);
    for (let i = 0; i < texts.length; i++) {
      const t = texts[i];
      if (typeof t !== "string" || t.length === 0) {
        throw new EmbeddingError("bad_request", `embedding input ${i} is empty; the API rejects empty strings`);
      }
      counts[i] = countTokens(t);
    }
    // A request larger than the whole token budget could never be admitted.
    const budget = limiter.tokenLimit;
    const perRequest = Number.isFinite(budget) ? Math.max(1, Math.min(maxTokensPerRequest, Math.floor(budget))) : maxTokensPerRequest;
    const batches = planBatches(counts, { maxInputsPerRequest, maxTokensPerRequest: perRequest, maxTokensPerInput });

    const ctx: EmbedContext = {
      controller: new AbortController(),
      failure: undefined,
      requests: 0,
      tokens: 0,
      vectors: new Array<Float32Array>(texts.length),
    };
    const onExternalAbort = () => ctx.controller.abort(external?.reason);
    external?.addEventListener("abort", onExternalAbort, { once: true });

    const tasks = batches.map((batch) =>
      limit(async () => {
        try {
          await runBatch(texts, batch, ctx);
        } catch (err) {
          if (err instanceof EmbeddingError && err.kind !== "aborted" && ctx.failure === undefined) {
            // First real failure: stop every other request of this call now.
            ctx.failure = err;
            ctx.controller.abort(err);
          }
          throw err;
        }
      }),
    );
    for (const t of tasks) t.catch(() => {}); // the first rejection is handled below
    try {
      await Promise.all(tasks);
    } catch (err) {
      if (ctx.failure !== undefined) throw ctx.failure;
      if (external?.aborted) throw new EmbeddingError("aborted", "embedding aborted", { cause: external.reason });
      throw err;
    } finally {
      external?.removeEventListener("abort", onExternalAbort);
      if (!ctx.controller.signal.aborted) ctx.controller.abort(new EmbeddingError("aborted", "embed() call finished"));
    }
    return { vectors: ctx.vectors, tokens: ctx.tokens, requests: ctx.requests };
  }

  return {
    provider: "openai",
    model,
    dimensions,
    countTokens,
    embed,
    rateLimits: () => limiter.snapshot(),
  };
}
