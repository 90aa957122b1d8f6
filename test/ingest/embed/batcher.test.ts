import { describe, expect, it } from "vitest";
import { planBatches } from "../../../src/ingest/embed/batcher.ts";
import type { Batch, BatchLimits } from "../../../src/ingest/embed/batcher.ts";
import { EmbeddingError } from "../../../src/ingest/types.ts";

const OPENAI: BatchLimits = { maxInputsPerRequest: 2048, maxTokensPerRequest: 300_000, maxTokensPerInput: 8191 };

function checkInvariants(counts: number[], batches: Batch[], limits: BatchLimits): void {
  let next = 0;
  for (const b of batches) {
    expect(b.start).toBe(next);
    expect(b.end).toBeGreaterThan(b.start);
    expect(b.end - b.start).toBeLessThanOrEqual(limits.maxInputsPerRequest);
    const sum = counts.slice(b.start, b.end).reduce((a, c) => a + c, 0);
    expect(b.tokens).toBe(sum);
    expect(b.tokens).toBeLessThanOrEqual(limits.maxTokensPerRequest);
    // Greedy: the next input would not have fitted.
    if (b.end < counts.length) {
      const fits = b.end - b.start + 1 <= limits.maxInputsPerRequest && b.tokens + counts[b.end]! <= limits.maxTokensPerRequest;
      expect(fits).toBe(false);
    }
    next = b.end;
  }
  expect(next).toBe(counts.length);
}

describe("planBatches", () => {
  it("returns no batches for no inputs", () => {
    expect(planBatches([], OPENAI)).toEqual([]);
  });

  it("caps requests at 2048 inputs", () => {
    const counts = new Array<number>(5000).fill(10);
    const batches = planBatches(counts, OPENAI);
    expect(batches.map((b) => b.end - b.start)).toEqual([2048, 2048, 904]);
    checkInvariants(counts, batches, OPENAI);
  });

  it("caps requests at 300k tokens", () => {
    const counts = new Array<number>(100).fill(8000);
    const batches = planBatches(counts, OPENAI);
    // 37 × 8000 = 296,000 ≤ 300,000 < 38 × 8000
    expect(batches.map((b) => b.end - b.start)).toEqual([37, 37, 26]);
    expect(batches.map((b) => b.tokens)).toEqual([296_000, 296_000, 208_000]);
    checkInvariants(counts, batches, OPENAI);
  });

  it("accepts an input of exactly the per-input limit and rejects one token more, naming the index", () => {
    expect(planBatches([1, 8191, 3], OPENAI)).toEqual([{ start: 0, end: 3, tokens: 8195 }]);
    let err: unknown;
    try {
      planBatches([5, 5, 5, 8192, 5], OPENAI);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EmbeddingError);
    expect((err as EmbeddingError).kind).toBe("bad_request");
    expect((err as EmbeddingError).message).toMatch(/input 3 has 8192 tokens/);
    expect((err as EmbeddingError).message).toMatch(/8191/);
  });

  it("rejects an input that could never fit a request", () => {
    const limits = { maxInputsPerRequest: 10, maxTokensPerRequest: 100, maxTokensPerInput: 8191 };
    expect(() => planBatches([50, 101], limits)).toThrow(/input 1 has 101 tokens.*per-request limit of 100/);
  });

  it("holds its invariants on random inputs", () => {
    let seed = 12345;
    const rand = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 4294967296;
    };
    for (let round = 0; round < 200; round++) {
      const limits: BatchLimits = {
        maxInputsPerRequest: 1 + Math.floor(rand() * 20),
        maxTokensPerRequest: 50 + Math.floor(rand() * 500),
        maxTokensPerInput: 50,
      };
      const counts = Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 51));
      checkInvariants(counts, planBatches(counts, limits), limits);
    }
  });

  it("validates limits", () => {
    expect(() => planBatches([1], { ...OPENAI, maxInputsPerRequest: 0 })).toThrow(RangeError);
    expect(() => planBatches([-1], OPENAI)).toThrow(RangeError);
  });
});
