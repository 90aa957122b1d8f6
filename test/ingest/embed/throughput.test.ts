import { afterEach, describe, expect, it } from "vitest";
import { createOpenAIEmbedder } from "../../../src/ingest/embed/openai.ts";
import type { EmbedderEvent } from "../../../src/ingest/embed/openai.ts";
import { fakeEmbedding, startFakeOpenAI } from "../../support/fake-openai.ts";
import type { FakeOpenAI } from "../../support/fake-openai.ts";

let server: FakeOpenAI | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Deterministic prose-like chunks of roughly `tokens` tokens each. */
function makeChunks(count: number, words: number): string[] {
  const vocab =
    "the a of to and in is for on with as by at from that this vector index query chunk token model worker retry limit window request server postgres embedding search document page heading table list code quote ingestion pipeline batch budget header throughput latency"
      .split(" ");
  let seed = 99;
  const out: string[] = [];
  for (let c = 0; c < count; c++) {
    const w: string[] = [`chunk-${c}:`];
    for (let i = 0; i < words; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      w.push(vocab[(seed >>> 8) % vocab.length]!);
    }
    out.push(w.join(" ") + ".");
  }
  return out;
}

describe("rate-limited throughput", () => {
  it("stays near the TPM limit over several windows with (almost) no 429s", async () => {
    const windowMs = 2000;
    const tpm = 60_000;
    const fake = await startFakeOpenAI({ tpm, rpm: 10_000, windowMs, latencyMs: 15, latencyPerTokenMs: 0.002 });
    server = fake;
    const events: EmbedderEvent[] = [];
    const embedder = createOpenAIEmbedder({
      apiKey: fake.apiKey,
      baseURL: fake.url,
      model: "text-embedding-3-small",
      dimensions: 16,
      // No tpmLimit: the limit is learned from the headers of the first response.
      rateLimitWindowMs: windowMs,
      maxTokensPerRequest: 3000,
      concurrency: 4,
      onEvent: (e) => events.push(e),
    });
    const texts = makeChunks(2150, 120); // ≈ 4.3 windows' worth of tokens
    const t0 = performance.now();
    const r = await embedder.embed(texts);
    const elapsed = performance.now() - t0;

    expect(r.vectors).toHaveLength(texts.length);
    expect(Array.from(r.vectors[1234]!)).toEqual(Array.from(fakeEmbedding(texts[1234]!, { dimensions: 16 })));
    expect(r.tokens).toBe(fake.stats.tokens);
    expect(r.tokens).toBeGreaterThan(4 * tpm);

    // Tokens accepted by the server per consecutive full window, from the first arrival.
    const ok = fake.stats.log.filter((l) => l.status === 200);
    const first = ok[0]!.at;
    const last = ok[ok.length - 1]!.at;
    const fullWindows = Math.floor((last - first) / windowMs);
    const perWindow = Array.from({ length: fullWindows }, (_, k) =>
      ok.filter((l) => l.at >= first + k * windowMs && l.at < first + (k + 1) * windowMs).reduce((s, l) => s + l.tokens, 0),
    );
    // Max over any sliding window (start at each arrival): never above the limit.
    const maxSliding = Math.max(...ok.map((a) => ok.filter((l) => l.at >= a.at && l.at < a.at + windowMs).reduce((s, l) => s + l.tokens, 0)));
    const shares = perWindow.map((t) => t / tpm);
    const throttles = events.filter((e) => e.type === "throttle").length;
    console.log(
      `throughput: ${r.tokens} tokens in ${(elapsed / 1000).toFixed(1)} s over ${r.requests} requests; ` +
        `per full ${windowMs} ms window: ${shares.map((s) => `${(s * 100).toFixed(1)}%`).join(", ")} of ${tpm}; ` +
        `max sliding window ${((maxSliding / tpm) * 100).toFixed(1)}%; 429s: ${fake.stats.rateLimited429}; throttle waits: ${throttles}`,
    );

    expect(fullWindows).toBeGreaterThanOrEqual(3);
    for (const s of shares) expect(s).toBeGreaterThanOrEqual(0.85);
    expect(maxSliding).toBeLessThanOrEqual(tpm);
    expect(fake.stats.rateLimited429).toBeLessThanOrEqual(1);
    expect(throttles).toBeGreaterThan(0);
    // Total time is bounded by the limit: ≈ (tokens / tpm − 1) windows after the first burst.
    expect(elapsed).toBeGreaterThanOrEqual((r.tokens / tpm - 1) * windowMs * 0.95);
  });
});
