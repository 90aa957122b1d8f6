import { afterEach, describe, expect, it } from "vitest";
import { createOpenAIEmbedder } from "../../../src/ingest/embed/openai.ts";
import type { EmbedderEvent, OpenAIEmbedderOptions } from "../../../src/ingest/embed/openai.ts";
import { EmbeddingError } from "../../../src/ingest/types.ts";
import { fakeCountTokens, fakeEmbedding, startFakeOpenAI } from "../../support/fake-openai.ts";
import type { FakeOpenAI, FakeOpenAIOptions } from "../../support/fake-openai.ts";

let server: FakeOpenAI | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup(
  serverOptions: FakeOpenAIOptions = {},
  embedderOptions: Partial<OpenAIEmbedderOptions> = {},
): Promise<{ fake: FakeOpenAI; embedder: ReturnType<typeof createOpenAIEmbedder>; events: EmbedderEvent[] }> {
  const fake = await startFakeOpenAI(serverOptions);
  server = fake;
  const events: EmbedderEvent[] = [];
  const embedder = createOpenAIEmbedder({
    apiKey: fake.apiKey,
    baseURL: fake.url,
    model: "text-embedding-3-small",
    dimensions: 64,
    retryBaseDelayMs: 20,
    onEvent: (e) => events.push(e),
    ...embedderOptions,
  });
  return { fake, embedder, events };
}

const TEXTS = [
  "PostgreSQL stores the chunks.",
  "pgvector indexes them with HNSW.",
  "Embeddings map text to vectors.",
  "The worker batches requests.",
  "Rate limits are learned from headers.",
  "Ünïcödé text is fine too — 日本語.",
];

function expectVectors(vectors: Float32Array[], texts: string[], dimensions: number, model = "text-embedding-3-small"): void {
  expect(vectors).toHaveLength(texts.length);
  texts.forEach((t, i) => {
    const v = vectors[i]!;
    expect(v).toBeInstanceOf(Float32Array);
    expect(v.length).toBe(dimensions);
    expect(Array.from(v)).toEqual(Array.from(fakeEmbedding(t, { model, dimensions })));
  });
}

async function rejection(p: Promise<unknown>): Promise<EmbeddingError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EmbeddingError);
  return err as EmbeddingError;
}

describe("OpenAI embedder against the loopback fake", () => {
  it.each(["float", "base64"] as const)("embeds in order with encoding_format %s", async (encodingFormat) => {
    const { fake, embedder } = await setup({}, { encodingFormat });
    expect(embedder.provider).toBe("openai");
    const r = await embedder.embed(TEXTS);
    expectVectors(r.vectors, TEXTS, 64);
    const tokens = TEXTS.reduce((s, t) => s + fakeCountTokens(t), 0);
    expect(r.tokens).toBe(tokens);
    expect(r.requests).toBe(1);
    expect(fake.stats.requests).toBe(1);
    expect(fake.stats.log[0]!.encodingFormat).toBe(encodingFormat);
    expect(embedder.countTokens(TEXTS[0]!)).toBe(fakeCountTokens(TEXTS[0]!));
  });

  it("sends dimensions for text-embedding-3 models and omits it when sendDimensions is false", async () => {
    const { fake, embedder } = await setup({}, { dimensions: 256 });
    const r = await embedder.embed(TEXTS.slice(0, 2));
    expectVectors(r.vectors, TEXTS.slice(0, 2), 256);
    expect(fake.stats.log[0]!.dimensions).toBe(256);

    const ada = createOpenAIEmbedder({ apiKey: fake.apiKey, baseURL: fake.url, model: "text-embedding-ada-002", dimensions: 1536 });
    const r2 = await ada.embed(["hello"]);
    expectVectors(r2.vectors, ["hello"], 1536, "text-embedding-ada-002");
    expect(fake.stats.log[1]!.dimensions).toBeUndefined();
  });

  it("splits into several requests, runs them concurrently and reassembles in order (also when data[] is reordered)", async () => {
    const { fake, embedder, events } = await setup({ latencyMs: 30 }, { maxInputsPerRequest: 2, concurrency: 3 });
    fake.setFault({ kind: "reorder", count: 3 });
    const texts = Array.from({ length: 11 }, (_, i) => `text number ${i} ${"x".repeat(i)}`);
    const r = await embedder.embed(texts);
    expectVectors(r.vectors, texts, 64);
    expect(r.requests).toBe(6);
    expect(fake.stats.requests).toBe(6);
    expect(fake.stats.log.every((l) => l.inputs <= 2)).toBe(true);
    expect(events.filter((e) => e.type === "request")).toHaveLength(6);
    expect(r.tokens).toBe(fake.stats.tokens);
  });

  it("caps each request by maxTokensPerRequest", async () => {
    const { fake, embedder } = await setup({}, { maxTokensPerRequest: 20 });
    const texts = Array.from({ length: 10 }, () => "one two three four five six seven eight"); // 8 tokens each
    const r = await embedder.embed(texts);
    expectVectors(r.vectors, texts, 64);
    expect(fake.stats.requests).toBe(5);
    expect(Math.max(...fake.stats.log.map((l) => l.tokens))).toBeLessThanOrEqual(20);
  });

  it("rejects an over-long or empty input before sending anything", async () => {
    const { fake, embedder } = await setup({}, { maxTokensPerInput: 50 });
    const long = "word ".repeat(80);
    const e1 = await rejection(embedder.embed(["ok", "fine", long]));
    expect(e1.kind).toBe("bad_request");
    expect(e1.message).toMatch(/input 2 has \d+ tokens/);
    const e2 = await rejection(embedder.embed(["ok", ""]));
    expect(e2.kind).toBe("bad_request");
    expect(e2.message).toMatch(/input 1 is empty/);
    expect(fake.stats.requests).toBe(0);
  });

  it("fails loudly on a dimension mismatch (no retries)", async () => {
    const { fake, embedder } = await setup({}, { dimensions: 256, sendDimensions: false });
    const err = await rejection(embedder.embed(["hello"]));
    expect(err.kind).toBe("dimension_mismatch");
    expect(err.message).toMatch(/1536 dimensions/);
    expect(err.message).toMatch(/configured for 256/);
    expect(err.permanent).toBe(true);
    expect(fake.stats.requests).toBe(1);

    fake.setFault({ kind: "dimensions", dimensions: 255 });
    const withParam = createOpenAIEmbedder({ apiKey: fake.apiKey, baseURL: fake.url, model: "text-embedding-3-small", dimensions: 256 });
    const err2 = await rejection(withParam.embed(["hello"]));
    expect(err2.kind).toBe("dimension_mismatch");
    expect(err2.message).toMatch(/255 dimensions.*configured for 256/);
    expect(fake.stats.requests).toBe(2);
  });

  it("waits for Retry-After on a 429 and then succeeds", async () => {
    const { fake, embedder, events } = await setup();
    fake.setFault({ kind: "status", status: 429, retryAfterSeconds: 1 });
    const t0 = performance.now();
    const r = await embedder.embed(TEXTS);
    const elapsed = performance.now() - t0;
    expectVectors(r.vectors, TEXTS, 64);
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(r.requests).toBe(2);
    expect(fake.stats.requests).toBe(2);
    expect(fake.stats.rateLimited429).toBe(1);
    const retries = events.filter((e) => e.type === "retry");
    expect(retries).toEqual([expect.objectContaining({ status: 429, waitMs: 1000 })]);
    // Arrival of the retry at the server is at least Retry-After after the 429.
    expect(fake.stats.log[1]!.at - fake.stats.log[0]!.at).toBeGreaterThanOrEqual(999);
  });

  it("prefers retry-after-ms over retry-after", async () => {
    const { fake, embedder } = await setup();
    fake.setFault({ kind: "status", status: 503, retryAfterSeconds: 30, retryAfterMs: 250 });
    const t0 = performance.now();
    await embedder.embed(["a"]);
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(245);
    expect(elapsed).toBeLessThan(5000);
    expect(fake.stats.byStatus[503]).toBe(1);
  });

  it("retries 500s, a timeout and a malformed body, then succeeds", async () => {
    const { fake, embedder, events } = await setup({}, { requestTimeoutMs: 300 });
    fake.setFault({ kind: "status", status: 500, count: 2 });
    const r1 = await embedder.embed(TEXTS);
    expectVectors(r1.vectors, TEXTS, 64);
    expect(r1.requests).toBe(3);
    expect(fake.stats.byStatus[500]).toBe(2);
    expect(events.filter((e) => e.type === "retry").map((e) => (e.type === "retry" ? e.status : -1))).toEqual([500, 500]);

    fake.setFault({ kind: "hang" });
    const t0 = performance.now();
    const r2 = await embedder.embed(TEXTS);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expectVectors(r2.vectors, TEXTS, 64);
    expect(r2.requests).toBe(2);
    await waitFor(() => fake.stats.clientAborted >= 1);
    expect(events.filter((e) => e.type === "retry").at(-1)).toMatchObject({ status: null, reason: expect.stringMatching(/timeout/) });

    fake.setFault({ kind: "malformed" });
    const r3 = await embedder.embed(TEXTS);
    expectVectors(r3.vectors, TEXTS, 64);
    expect(r3.requests).toBe(2);
  });

  it("gives up after maxRetries with a transient error carrying the last cause", async () => {
    const { fake, embedder } = await setup({}, { maxRetries: 2 });
    fake.setFault({ kind: "status", status: 502, count: 100 });
    const err = await rejection(embedder.embed(["a", "b"]));
    expect(err.kind).toBe("transient");
    expect(err.permanent).toBe(false);
    expect(err.message).toMatch(/after 3 attempts/);
    expect(err.cause).toMatchObject({ status: 502 });
    expect(fake.stats.requests).toBe(3);
  });

  it("fails fast on insufficient_quota and abandons the other in-flight requests", async () => {
    const latencyMs = 1500;
    const { fake, embedder, events } = await setup({ latencyMs }, { maxInputsPerRequest: 1, concurrency: 4 });
    // Let the first (probe) request through; the next one to arrive gets the quota error
    // 200 ms later, while the three other concurrent requests are in flight (each would take latencyMs).
    fake.setFault({ kind: "insufficient_quota", after: 1, delayMs: 200 });
    const t0 = performance.now();
    const err = await rejection(embedder.embed(Array.from({ length: 12 }, (_, i) => `input ${i}`)));
    const elapsed = performance.now() - t0;
    expect(err.kind).toBe("quota_exhausted");
    expect(err.permanent).toBe(true);
    expect(err.message).toMatch(/quota/);
    // Probe (~1.5 s) + the 429 (0.2 s); waiting for the others would take until ~3 s.
    expect(elapsed).toBeLessThan(latencyMs * 1.6);
    expect(fake.stats.byStatus[429]).toBe(1);
    expect(fake.stats.byStatus[200]).toBe(1);
    expect(events.filter((e) => e.type === "retry")).toHaveLength(0);
    // Everything else that reached the server was abandoned by the client.
    expect(fake.stats.requests).toBe(5); // probe + 4 concurrent
    await waitFor(() => fake.stats.clientAborted === 3);
    // Nothing is sent afterwards: no retry, no queued batch.
    const sent = fake.stats.requests;
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.stats.requests).toBe(sent);
    expect(fake.stats.byStatus[200]).toBe(1);
  });

  it("maps 401 to auth and unknown models to bad_request, without retrying", async () => {
    const { fake } = await setup();
    const bad = createOpenAIEmbedder({ apiKey: "sk-wrong-key-123456", baseURL: fake.url, model: "text-embedding-3-small", dimensions: 64 });
    const e1 = await rejection(bad.embed(["a"]));
    expect(e1.kind).toBe("auth");
    expect(e1.message).toMatch(/401/);
    expect(fake.stats.requests).toBe(1);

    const unknown = createOpenAIEmbedder({ apiKey: fake.apiKey, baseURL: fake.url, model: "no-such-model", dimensions: 64 });
    const e2 = await rejection(unknown.embed(["a"]));
    expect(e2.kind).toBe("bad_request");
    expect(e2.message).toMatch(/no-such-model/);
    expect(fake.stats.requests).toBe(2);
    expect(fake.stats.byStatus).toEqual({ 401: 1, 404: 1 });
  });

  it("stops promptly when the caller aborts", async () => {
    const { fake, embedder } = await setup({ latencyMs: 2000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("job cancelled")), 100);
    const t0 = performance.now();
    const err = await rejection(embedder.embed(TEXTS, { signal: ac.signal }));
    expect(err.kind).toBe("aborted");
    expect(performance.now() - t0).toBeLessThan(1000);
    await waitFor(() => fake.stats.clientAborted === 1);
  });

  it("learns the server's limits from x-ratelimit headers", async () => {
    const { embedder } = await setup({ tpm: 123_456, rpm: 789 });
    expect(embedder.rateLimits().tokenLimit).toBe(Infinity);
    await embedder.embed(["a b c"]);
    const snap = embedder.rateLimits();
    expect(snap.tokenLimit).toBe(123_456);
    expect(snap.requestLimit).toBe(789);
    expect(snap.tokensInWindow).toBe(fakeCountTokens("a b c"));
  });

  it("works with servers that send no rate-limit headers", async () => {
    const { fake, embedder } = await setup({ rateLimits: false }, { maxInputsPerRequest: 1 });
    const r = await embedder.embed(TEXTS);
    expectVectors(r.vectors, TEXTS, 64);
    expect(fake.stats.requests).toBe(TEXTS.length);
    expect(embedder.rateLimits().tokenLimit).toBe(Infinity);
  });

  it("keeps under an RPM limit without 429s", async () => {
    const { fake, embedder, events } = await setup({ rpm: 10, windowMs: 1000 }, { maxInputsPerRequest: 1, rateLimitWindowMs: 1000 });
    const texts = Array.from({ length: 25 }, (_, i) => `request ${i}`);
    const t0 = performance.now();
    const r = await embedder.embed(texts);
    expectVectors(r.vectors, texts, 64);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(2000); // 25 requests at 10 per second-window
    expect(fake.stats.rateLimited429).toBe(0);
    expect(events.some((e) => e.type === "throttle")).toBe(true);
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 10));
  }
}
