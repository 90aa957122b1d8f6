// Packs embedding inputs into requests. Pure: no I/O, no clock.
//
// Inputs keep their order and every batch is a contiguous range, so results
// are reassembled by offset. Packing is greedy (a batch is closed when the
// next input would break the input-count or token limit), which is optimal
// for contiguous ranges: no other split uses fewer requests.

import { EmbeddingError } from "../types.ts";

export interface BatchLimits {
  /** Max inputs in one request (OpenAI: 2048). */
  maxInputsPerRequest: number;
  /** Max summed tokens in one request (OpenAI: 300,000). */
  maxTokensPerRequest: number;
  /** Max tokens of one input (OpenAI: 8191 for text-embedding-3-*). */
  maxTokensPerInput: number;
}

export interface Batch {
  /** Index of the first input in the batch. */
  start: number;
  /** One past the last input. */
  end: number;
  /** Summed token count of the batch's inputs. */
  tokens: number;
}

function checkLimit(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
}

/**
 * Splits inputs (given by their token counts) into batches respecting all
 * limits. An input over maxTokensPerInput (or over maxTokensPerRequest, which
 * could never be sent) is the caller's error: it throws EmbeddingError
 * "bad_request" naming the input index; nothing is truncated silently.
 */
export function planBatches(tokenCounts: readonly number[], limits: BatchLimits): Batch[] {
  checkLimit("maxInputsPerRequest", limits.maxInputsPerRequest);
  checkLimit("maxTokensPerRequest", limits.maxTokensPerRequest);
  checkLimit("maxTokensPerInput", limits.maxTokensPerInput);
  const perInput = Math.min(limits.maxTokensPerInput, limits.maxTokensPerRequest);

  const batches: Batch[] = [];
  let start = 0;
  let tokens = 0;
  for (let i = 0; i < tokenCounts.length; i++) {
    const t = tokenCounts[i]!;
    if (!Number.isFinite(t) || t < 0) throw new RangeError(`token count of input ${i} is invalid: ${t}`);
    if (t > perInput) {
      const which =
        t > limits.maxTokensPerInput
          ? `the per-input limit of ${limits.maxTokensPerInput}`
          : `the per-request limit of ${limits.maxTokensPerRequest}`;
      throw new EmbeddingError(
        "bad_request",
        `embedding input ${i} has ${t} tokens, over ${which}; split it before embedding (inputs are never truncated)`,
      );
    }
    const count = i - start;
    if (count > 0 && (count + 1 > limits.maxInputsPerRequest || tokens + t > limits.maxTokensPerRequest)) {
      batches.push({ start, end: i, tokens });
      start = i;
      tokens = 0;
    }
    tokens += t;
  }
  if (tokenCounts.length > start) batches.push({ start, end: tokenCounts.length, tokens });
  return batches;
}
