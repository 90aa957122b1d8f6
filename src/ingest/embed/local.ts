// A deterministic, offline embedder: feature hashing of lexical features.
//
// What it is: a "hashing trick" bag of n-grams. Text is NFKC-normalised and
// lowercased, split into words (runs of letters, digits and combining marks),
// and three families of features are counted:
//   - word unigrams,
//   - word bigrams (adjacent word pairs, order-sensitive),
//   - character 3-, 4- and 5-grams inside each word, with boundary markers
//     ("<fox>" → "<fo", "fox", "ox>", "<fox", "fox>", "<fox>"), which makes
//     "embedding" and "embeddings" overlap strongly.
// Each feature's 32-bit FNV-1a hash (seeded per family) is finalised with the
// murmur3 fmix32 mixer; the mix picks the dimension and an independent mix
// picks the sign (signed hashing keeps collisions unbiased: colliding features
// cancel on average instead of piling up). Term frequency is sublinear
// (1 + ln tf) per feature, scaled by a per-family weight, and the vector is
// L2-normalised so cosine similarity equals the dot product.
//
// What it is not: semantic. Two texts are close when they share words, word
// pairs and word fragments; synonyms ("car" / "automobile") and paraphrases
// with different vocabulary are NOT close. It exists so the demo and the tests
// run anywhere without a network, a key or a model download. Retrieval quality
// is roughly that of a TF-weighted lexical search, not of a neural embedding.
//
// Empty input (or text with no letters/digits, e.g. only punctuation): there
// are no features, and an all-zero vector would make cosine similarity
// undefined (NaN in pgvector's <=> operator). Such texts get one fixed,
// deterministic pseudo-random unit vector (EMPTY_TEXT_VECTOR): its similarity
// to real texts is ~0 (it is nearly orthogonal to everything in high
// dimensions) and two empty texts are identical to each other.

import type { Embedder, EmbeddingResult } from "../types.ts";
import { EmbeddingError } from "../types.ts";
import { createTokenCounter } from "../tokens.ts";
import type { TokenCounterKind } from "../tokens.ts";

export const LOCAL_MODEL = "local-hash-v1";

export interface LocalEmbedderOptions {
  /** Vector length. Default 384. */
  dimensions?: number;
  /**
   * Tokenizer behind countTokens() and the `tokens` figure of embed(). Default
   * "cl100k_base" so that chunk sizes match the OpenAI models; "estimate"
   * (an over-estimate) is cheaper when exact counts do not matter.
   */
  tokenizer?: TokenCounterKind;
}

// Family weights: per word there is 1 unigram, ~1 bigram and ~3·(len+2)-6 char
// n-grams, so the char n-grams get a small weight to keep whole-word matches
// dominant while still rewarding shared stems and typos.
const WEIGHT_UNIGRAM = 1.0;
const WEIGHT_BIGRAM = 0.7;
const WEIGHT_CHARGRAM = 0.3;

const FAMILY_UNIGRAM = 0;
const FAMILY_BIGRAM = 1;
const FAMILY_CHARGRAM = 2;
const FAMILY_WEIGHTS: readonly number[] = [WEIGHT_UNIGRAM, WEIGHT_BIGRAM, WEIGHT_CHARGRAM, 0];

const FNV_PRIME = 0x01000193;
const SEED_UNIGRAM = 0x811c9dc5 | 0; // FNV-1a offset basis
const SEED_CHARGRAM = 0x2f6b1d37 | 0;
const SEED_BIGRAM = 0x5bd1e995 | 0;
/** Word-boundary markers for char n-grams (control chars never occur inside words). */
const MARK_START = 0x02;
const MARK_END = 0x03;

const WORD_RE = /[\p{L}\p{N}\p{M}]+/gu;

/** murmur3 32-bit finaliser: full avalanche of a 32-bit state. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/**
 * Open-addressing hash table (linear probing) from feature key → count,
 * reused across calls (the embedder is synchronous, so one scratch table per
 * module is safe). A key is the feature's 32-bit hash with its family in the
 * low 2 bits; count 0 marks an empty slot.
 */
class FeatureCounts {
  keys = new Int32Array(1 << 12);
  counts = new Int32Array(1 << 12);
  slots = new Int32Array(1 << 11);
  size = 0;
  shift = 32 - 12;
  mask = (1 << 12) - 1;

  add(key: number): void {
    const keys = this.keys;
    const counts = this.counts;
    // Fibonacci hashing: the top bits of key·φ pick the slot.
    let i = Math.imul(key, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const c = counts[i]!;
      if (c === 0) {
        keys[i] = key;
        counts[i] = 1;
        this.slots[this.size++] = i;
        if (this.size === this.slots.length) this.grow();
        return;
      }
      if (keys[i] === key) {
        counts[i] = c + 1;
        return;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** Doubles the capacity; load factor stays ≤ 1/2. */
  private grow(): void {
    const oldKeys = this.keys;
    const oldCounts = this.counts;
    const oldSlots = this.slots;
    const cap = (this.mask + 1) * 2;
    this.keys = new Int32Array(cap);
    this.counts = new Int32Array(cap);
    this.slots = new Int32Array(cap / 2);
    this.mask = cap - 1;
    this.shift--;
    for (let k = 0; k < this.size; k++) {
      const s = oldSlots[k]!;
      const key = oldKeys[s]!;
      let i = Math.imul(key, 0x9e3779b1) >>> this.shift;
      while (this.counts[i] !== 0) i = (i + 1) & this.mask;
      this.keys[i] = key;
      this.counts[i] = oldCounts[s]!;
      this.slots[k] = i;
    }
  }

  clear(): void {
    const counts = this.counts;
    const slots = this.slots;
    for (let k = 0; k < this.size; k++) counts[slots[k]!] = 0;
    this.size = 0;
  }
}

const scratch = new FeatureCounts();

function emptyTextVector(dimensions: number): Float32Array {
  // xorshift32 from a fixed seed: ±1/√d in every component, so the norm is exactly 1.
  const v = new Float32Array(dimensions);
  const c = 1 / Math.sqrt(dimensions);
  let s = 0x9e3779b9 | 0;
  for (let i = 0; i < dimensions; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    v[i] = s & 1 ? c : -c;
  }
  return v;
}

const emptyVectors = new Map<number, Float32Array>();

/** The fixed unit vector returned for texts without any word (see module comment). */
export function emptyTextEmbedding(dimensions: number): Float32Array {
  let v = emptyVectors.get(dimensions);
  if (v === undefined) {
    v = emptyTextVector(dimensions);
    emptyVectors.set(dimensions, v);
  }
  return v.slice();
}

/** Embeds one text; pure and deterministic (same text and dimensions → same vector, on any machine). */
export function hashEmbed(text: string, dimensions: number): Float32Array {
  const table = scratch;
  table.clear();
  const norm = text.normalize("NFKC").toLowerCase();
  WORD_RE.lastIndex = 0;
  let prev = 0;
  let havePrev = false;
  for (let m = WORD_RE.exec(norm); m !== null; m = WORD_RE.exec(norm)) {
    const start = m.index;
    const end = start + m[0].length;

    // Word unigram.
    let hw = SEED_UNIGRAM;
    for (let i = start; i < end; i++) hw = Math.imul(hw ^ norm.charCodeAt(i), FNV_PRIME);
    table.add((hw & ~3) | FAMILY_UNIGRAM);

    // Word bigram (order-sensitive combination of the two word hashes).
    if (havePrev) table.add(((Math.imul(fmix32(prev ^ SEED_BIGRAM), FNV_PRIME) ^ hw) & ~3) | FAMILY_BIGRAM);
    prev = hw;
    havePrev = true;

    // Char 3..5-grams over MARK_START + word + MARK_END. Positions p run over
    // the padded word: p = start-1 is MARK_START, p = end is MARK_END.
    for (let p = start - 1; p <= end - 2; p++) {
      let h = SEED_CHARGRAM;
      const stop = Math.min(p + 5, end + 1);
      for (let q = p; q < stop; q++) {
        const c = q < start ? MARK_START : q >= end ? MARK_END : norm.charCodeAt(q);
        h = Math.imul(h ^ c, FNV_PRIME);
        if (q - p >= 2) table.add((h & ~3) | FAMILY_CHARGRAM);
      }
    }
  }

  if (table.size === 0) return emptyTextEmbedding(dimensions);

  const acc = new Float64Array(dimensions);
  const { keys, counts, slots } = table;
  for (let k = 0; k < table.size; k++) {
    const s = slots[k]!;
    const key = keys[s]!;
    const count = counts[s]!;
    const mixed = fmix32(key);
    const index = (mixed >>> 0) % dimensions;
    // Sign from the top bit of a second multiplicative mix (independent of the index).
    const sign = Math.imul(mixed, 0x27d4eb2f) < 0 ? -1 : 1;
    const weight = FAMILY_WEIGHTS[key & 3]! * (count === 1 ? 1 : 1 + Math.log(count));
    acc[index]! += sign * weight;
  }
  let sq = 0;
  for (let i = 0; i < dimensions; i++) sq += acc[i]! * acc[i]!;
  // Cancellation can, in principle, zero every bucket (e.g. one feature pair colliding
  // with opposite signs); fall back to the fixed vector rather than returning zeros.
  if (sq === 0) return emptyTextEmbedding(dimensions);
  const inv = 1 / Math.sqrt(sq);
  const out = new Float32Array(dimensions);
  for (let i = 0; i < dimensions; i++) out[i] = acc[i]! * inv;
  return out;
}

export function createLocalEmbedder(options: LocalEmbedderOptions = {}): Embedder {
  const dimensions = options.dimensions ?? 384;
  if (!Number.isInteger(dimensions) || dimensions < 2 || dimensions > 16_000) {
    throw new RangeError(`local embedder: dimensions must be an integer in 2..16000, got ${dimensions}`);
  }
  const countTokens = createTokenCounter(options.tokenizer ?? "cl100k_base");
  return {
    provider: "local",
    model: LOCAL_MODEL,
    dimensions,
    countTokens,
    async embed(texts: string[], opts?: { signal?: AbortSignal }): Promise<EmbeddingResult> {
      const signal = opts?.signal;
      const vectors: Float32Array[] = new Array<Float32Array>(texts.length);
      let tokens = 0;
      for (let i = 0; i < texts.length; i++) {
        // Cheap check between texts so a cancelled job stops promptly on big batches.
        if (signal?.aborted) throw new EmbeddingError("aborted", "local embedding aborted", { cause: signal.reason });
        const text = texts[i]!;
        vectors[i] = hashEmbed(text, dimensions);
        tokens += countTokens(text);
      }
      return { vectors, tokens, requests: 0 };
    },
  };
}
