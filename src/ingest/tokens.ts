// Token counting for chunking and embedding budgets.
//
// The tiktoken encodings ("cl100k_base", "o200k_base") are counted exactly:
// same pre-tokenizer regex and BPE merge rule as tiktoken / js-tiktoken, with
// the rank tables that js-tiktoken bundles. We do not call js-tiktoken's
// `encode` because its merge loop is O(n²) per pre-token with a string join per
// probe: a 4,000-character CJK run without punctuation takes ~9 s and a 10k-char
// URL several seconds, which is a denial of service for an ingestion worker.
// Here the merge is O(n log n) for long pre-tokens, single-token pre-tokens are
// one Map lookup, and pre-tokens are memoized (at most 200k entries of <= 64
// chars, cleared when full: tens of MB at worst). About 3x faster than
// js-tiktoken on article text. The test suite checks the counts against
// js-tiktoken on real and adversarial text.
//
// Special-token strings ("<|endoftext|>") are counted as ordinary text, like
// `encode(text, [], [])`: documents are data, never control tokens.
//
// "estimate" is a tokenizer-free, documented over-estimate for unknown models
// (see `estimateTokens`).
import { createRequire } from "node:module";

export type TokenCounterKind = "cl100k_base" | "o200k_base" | "estimate";
export type CountTokens = (text: string) => number;

/** What the chunker may assume about a counter (see `tokenCounterTraits`). */
export interface TokenCounterTraits {
  kind: TokenCounterKind;
  /**
   * count(a + b) === count(a) + count(b) whenever the cut between a and b is
   * "safe" (see `#cut` in chunk.ts): a ends with a non-whitespace character and
   * b starts with whitespace containing no \r/\n, or a ends with the last \r/\n
   * of a whitespace run and b does not start with "/". True for the
   * regex-pre-tokenized BPE encodings: no pre-token spans such a cut, and BPE
   * runs per pre-token. The chunker then adds tile counts instead of recounting.
   */
  additiveAtSafeCuts: boolean;
}

interface RankFile {
  pat_str: string;
  special_tokens: Record<string, number>;
  bpe_ranks: string;
}

const require = createRequire(import.meta.url);

function loadRanks(kind: "cl100k_base" | "o200k_base"): RankFile {
  // Lazy and synchronous: the o200k table is 2.3 MB of source we only parse when asked for.
  const mod: unknown = kind === "cl100k_base" ? require("js-tiktoken/ranks/cl100k_base") : require("js-tiktoken/ranks/o200k_base");
  const file = (mod as { default?: unknown }).default ?? mod;
  const f = file as Partial<RankFile>;
  if (typeof f.pat_str !== "string" || typeof f.bpe_ranks !== "string") throw new Error(`js-tiktoken rank file for ${kind} has an unexpected shape`);
  return file as RankFile;
}

/** Rank table keyed by "byte strings": one char (code 0..255) per UTF-8 byte. */
function parseRanks(bpeRanks: string): Map<string, number> {
  const ranks = new Map<string, number>();
  // Same format js-tiktoken parses: lines of "<prefix> <offset> <base64 token>...", rank = offset + i.
  for (const line of bpeRanks.split("\n")) {
    if (line === "") continue;
    const fields = line.split(" ");
    const offset = Number.parseInt(fields[1] ?? "", 10);
    if (!Number.isFinite(offset)) throw new Error("malformed BPE rank line");
    for (let i = 2; i < fields.length; i++) {
      const b64 = fields[i];
      if (b64 === undefined || b64 === "") continue;
      ranks.set(Buffer.from(b64, "base64").toString("latin1"), offset + i - 2);
    }
  }
  return ranks;
}

/** UTF-8 bytes of `s` as a byte string, lone surrogates as U+FFFD (what TextEncoder does). */
function utf8ByteString(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out += String.fromCharCode(c);
      continue;
    }
    if (c < 0x800) {
      out += String.fromCharCode(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        out += String.fromCharCode(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
        continue;
      }
      c = 0xfffd;
    }
    out += String.fromCharCode(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return out;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

const NO_RANK = Number.MAX_SAFE_INTEGER;
const SMALL_PIECE = 48;
const MEMO_LIMIT = 200_000;
const MEMO_MAX_PIECE = 64;

class BpeCounter {
  readonly #ranks: Map<string, number>;
  readonly #pattern: RegExp;
  readonly #memo = new Map<string, number>();

  constructor(file: RankFile) {
    this.#ranks = parseRanks(file.bpe_ranks);
    // Sticky: pre-tokens tile the text (every code point matches some alternative),
    // so we only need each match's end and never allocate match arrays.
    this.#pattern = new RegExp(file.pat_str, "uy");
  }

  count(text: string): number {
    const re = this.#pattern;
    let total = 0;
    let pos = 0;
    const n = text.length;
    while (pos < n) {
      re.lastIndex = pos;
      if (!re.test(text)) {
        // Cannot happen with the tiktoken patterns; count the rest bytewise-safe and stop.
        return total + utf8ByteString(text.slice(pos)).length;
      }
      const end = re.lastIndex;
      total += this.#piece(text.slice(pos, end));
      pos = end;
    }
    return total;
  }

  #piece(piece: string): number {
    // One lookup for the common case: every short pre-token seen before, single-token or not.
    const cached = this.#memo.get(piece);
    if (cached !== undefined) return cached;
    const bytes = isAscii(piece) ? piece : utf8ByteString(piece);
    let count: number;
    if (bytes.length === 1 || this.#ranks.has(bytes)) count = 1;
    else count = bytes.length <= SMALL_PIECE ? this.#mergeSmall(bytes) : this.#mergeLarge(bytes);
    if (piece.length <= MEMO_MAX_PIECE) {
      if (this.#memo.size >= MEMO_LIMIT) this.#memo.clear();
      this.#memo.set(piece, count);
    }
    return count;
  }

  #rank(bytes: string, start: number, end: number): number {
    return this.#ranks.get(bytes.slice(start, end)) ?? NO_RANK;
  }

  /** tiktoken's `_byte_pair_merge`: merge the lowest-ranked adjacent pair, leftmost first. Returns the part count. */
  #mergeSmall(bytes: string): number {
    const starts: number[] = [];
    const ranks: number[] = [];
    for (let i = 0; i < bytes.length; i++) starts.push(i);
    starts.push(bytes.length);
    for (let i = 0; i + 1 < bytes.length; i++) ranks.push(this.#rank(bytes, i, i + 2));
    // ranks[i] = rank of parts i and i+1 merged; parts are [starts[i], starts[i+1]).
    for (;;) {
      let min = NO_RANK;
      let at = -1;
      for (let i = 0; i < ranks.length; i++) {
        const r = ranks[i] as number;
        if (r < min) {
          min = r;
          at = i;
        }
      }
      if (at < 0) break;
      starts.splice(at + 1, 1);
      ranks.splice(at, 1);
      // Parts `at` and `at+1` are now one; refresh the two pairs that touch it.
      if (at < ranks.length) ranks[at] = at + 2 < starts.length ? this.#rank(bytes, starts[at] as number, starts[at + 2] as number) : NO_RANK;
      if (at > 0) ranks[at - 1] = this.#rank(bytes, starts[at - 1] as number, starts[at + 1] as number);
    }
    return starts.length - 1;
  }

  /** Same merge order as `#mergeSmall`, with a binary heap keyed by (rank, start): O(n log n). */
  #mergeLarge(bytes: string): number {
    const n = bytes.length;
    const next = new Int32Array(n + 1);
    const prev = new Int32Array(n + 1);
    const version = new Int32Array(n + 1);
    for (let i = 0; i <= n; i++) {
      next[i] = i + 1;
      prev[i] = i - 1;
    }
    // Heap entries: parallel arrays (rank, start, version).
    const hr: number[] = [];
    const hs: number[] = [];
    const hv: number[] = [];
    const less = (a: number, b: number): boolean => {
      const ra = hr[a] as number;
      const rb = hr[b] as number;
      return ra < rb || (ra === rb && (hs[a] as number) < (hs[b] as number));
    };
    const swap = (a: number, b: number): void => {
      const r = hr[a] as number, s = hs[a] as number, v = hv[a] as number;
      hr[a] = hr[b] as number; hs[a] = hs[b] as number; hv[a] = hv[b] as number;
      hr[b] = r; hs[b] = s; hv[b] = v;
    };
    const push = (rank: number, start: number): void => {
      hr.push(rank); hs.push(start); hv.push(version[start] as number);
      let i = hr.length - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!less(i, p)) break;
        swap(i, p);
        i = p;
      }
    };
    const pop = (): void => {
      const last = hr.length - 1;
      swap(0, last);
      hr.pop(); hs.pop(); hv.pop();
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < hr.length && less(l, m)) m = l;
        if (r < hr.length && less(r, m)) m = r;
        if (m === i) break;
        swap(i, m);
        i = m;
      }
    };
    // Pair starting at part `s` covers [s, next[next[s]]).
    const pairRank = (s: number): number => {
      const mid = next[s] as number;
      if (mid >= n) return NO_RANK;
      return this.#rank(bytes, s, next[mid] as number);
    };
    for (let s = 0; s + 1 < n; s++) {
      const r = pairRank(s);
      if (r !== NO_RANK) push(r, s);
    }
    let parts = n;
    while (hr.length > 0) {
      const s = hs[0] as number;
      const v = hv[0] as number;
      pop();
      if (v !== version[s]) continue; // stale: that pair changed since it was pushed
      const mid = next[s] as number;
      const after = next[mid] as number;
      next[s] = after;
      if (after <= n) prev[after] = s;
      version[mid] = (version[mid] as number) + 1; // `mid` no longer starts a part
      parts--;
      version[s] = (version[s] as number) + 1;
      const r = pairRank(s);
      if (r !== NO_RANK) push(r, s);
      const p = prev[s] as number;
      if (p >= 0) {
        version[p] = (version[p] as number) + 1;
        const rp = pairRank(p);
        if (rp !== NO_RANK) push(rp, p);
      }
    }
    return parts;
  }
}

/**
 * Tokenizer-free over-estimate for models whose tokenizer we do not have,
 * calibrated against cl100k_base (the least efficient of the two encodings on
 * non-English text). It mirrors the shape of BPE pre-tokenization:
 *  - a run of ASCII letters costs ceil(units / 4) when it is at most 10 units
 *    long, ceil(units / 1.6) when longer (identifiers, random strings), plus one
 *    per lower→upper case change; accented Latin letters count 3 units;
 *  - a run of digits costs ceil(digits / 3) (both encodings group digits by 3);
 *  - other ASCII characters cost 1 each; a whitespace run costs ceil(n / 6)
 *    for its part up to its last newline, plus 1 (+1 per 80) for indentation
 *    after it; a single space before a letter or punctuation is free;
 *  - CJK ideographs, kana, Hangul and full-width forms cost 2; Greek and Cyrillic
 *    1.5; Armenian 2.5; any other character its UTF-8 byte count (a hard upper
 *    bound: a byte-level BPE token covers at least one byte).
 * Measured (test/ingest/tokens.test.ts): on the 130 readability corpus pages the
 * estimate is 1.02-1.89x cl100k (median 1.49x); on CJK, Korean, Cyrillic, Greek,
 * Arabic, Hebrew, Devanagari, Thai samples 1.2-3x; on random hex 0.97x,
 * base64 1.0x. Sums of estimates of adjacent pieces are not guaranteed to
 * bound the estimate of the whole (runs are cut), so callers must count a
 * chunk's text, not add up its pieces.
 */
export function estimateTokens(text: string): number {
  let tokens = 0;
  let letters = 0; // letter units in the current run
  let caseUps = 0;
  let prevLower = false;
  let digits = 0;
  let ws = 0; // length of the current whitespace run
  let wsHead = 0; // length of its part up to and including its last newline
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : -1;
    const lower = c >= 0x61 && c <= 0x7a;
    const upper = c >= 0x41 && c <= 0x5a;
    const latinExt = c >= 0xc0 && c <= 0x24f && c !== 0xd7 && c !== 0xf7;
    const digit = c >= 0x30 && c <= 0x39;
    const space = c === 0x20 || (c >= 0x09 && c <= 0x0d);
    // Close the runs this character does not continue.
    if (letters > 0 && !(lower || upper || latinExt)) {
      tokens += (letters <= 10 ? Math.ceil(letters / 4) : Math.ceil(letters / 1.6)) + caseUps;
      letters = 0;
      caseUps = 0;
      prevLower = false;
    }
    if (digits > 0 && !digit) {
      tokens += Math.ceil(digits / 3);
      digits = 0;
    }
    if (ws > 0 && !space) {
      // Newlines and what precedes them: one pre-token, ~1 token per 6 characters.
      if (wsHead > 0) tokens += Math.ceil(wsHead / 6);
      // Indentation after the last newline: one pre-token (up to ~80 spaces per token); a single
      // space is absorbed by a following word or punctuation, not by digits or the end.
      const tail = ws - wsHead;
      if (tail > 1 || (tail === 1 && (c < 0 || digit))) tokens += 1 + Math.floor(tail / 80);
      ws = 0;
      wsHead = 0;
    }
    if (c < 0) break;
    if (lower || upper) {
      if (upper && prevLower) caseUps++;
      prevLower = lower;
      letters++;
    } else if (latinExt) {
      letters += 3;
      prevLower = false;
    } else if (digit) digits++;
    else if (space) {
      ws++;
      if (c === 0x0a || c === 0x0d) wsHead = ws;
    } else if (c < 0x80) tokens += 1;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        tokens += 4;
        i++;
      } else tokens += 3;
    } else if (c < 0x800) tokens += c >= 0x370 && c <= 0x52f ? 1.5 : c >= 0x530 && c <= 0x58f ? 2.5 : 2;
    else if (
      (c >= 0x2e80 && c <= 0x9fff) ||
      (c >= 0xac00 && c <= 0xd7af) ||
      (c >= 0xf900 && c <= 0xfaff) ||
      (c >= 0xff00 && c <= 0xffef) ||
      (c >= 0x1100 && c <= 0x11ff) ||
      (c >= 0x3130 && c <= 0x318f)
    )
      tokens += 2;
    else tokens += 3;
  }
  return Math.ceil(tokens);
}

const counters = new Map<TokenCounterKind, CountTokens>();
const traits = new WeakMap<CountTokens, TokenCounterTraits>();

/**
 * A token counter for `kind`, built once per process and shared (building a
 * BPE table takes ~0.1-0.3 s). Counting is exact for the tiktoken encodings.
 */
export function createTokenCounter(kind: TokenCounterKind): CountTokens {
  const cached = counters.get(kind);
  if (cached) return cached;
  let fn: CountTokens;
  if (kind === "estimate") {
    fn = (text: string) => estimateTokens(text);
  } else if (kind === "cl100k_base" || kind === "o200k_base") {
    const bpe = new BpeCounter(loadRanks(kind));
    fn = bpe.count.bind(bpe);
  } else {
    throw new Error(`unknown token counter kind: ${String(kind)}`);
  }
  counters.set(kind, fn);
  traits.set(fn, { kind, additiveAtSafeCuts: kind !== "estimate" });
  return fn;
}

/** Traits of a counter returned by `createTokenCounter` (undefined for any other function). */
export function tokenCounterTraits(fn: CountTokens): TokenCounterTraits | undefined {
  return traits.get(fn);
}
