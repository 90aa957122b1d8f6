// Structure-aware recursive chunking with exact token budgets.
//
// The canonical text of a document is its blocks' texts joined by "\n\n";
// every chunk is a slice of it (`canonical.slice(charStart, charEnd) === text`),
// trimmed of surrounding whitespace.
//
// How it works:
//  1. Sections: every heading starts one; headingPath is the heading stack by
//     level. A section with nothing but its heading is prefixed to the next
//     section, so a heading never ends a chunk when content follows it.
//  2. Pieces: each block is cut into sentences (Intl.Segmenter; lines for code
//     and tables). A piece over the unit budget (maxTokens - overlapTokens) is
//     cut into words, then Intl word segments (CJK, URLs), then grapheme runs,
//     so nothing is ever cut inside a grapheme cluster or inside a word that has
//     a word boundary.
//  3. Counting: pieces tile the text at whitespace "cuts" (see `#cut`) and each
//     tile is counted once. For the tiktoken counters of tokens.ts the count of
//     a chunk is exactly the sum of its tiles (plus a recount of the first/last
//     piece when the chunk trims whitespace off it): a BPE pre-token never spans
//     a safe cut. For any other counter (or an unsafe cut, e.g. between two CJK
//     sentences with no space) the chunk is recounted once. Either way
//     `tokenCount` is the counter's exact count of `text` and never exceeds
//     maxTokens unless one grapheme cluster alone does.
//  4. Packing: greedy within a section; when the next piece does not fit, the
//     chunk ends at the strongest boundary (section > block > sentence > word)
//     that still leaves it at least half full. A section's last chunk that is
//     small (< maxTokens/4) absorbs the whole next section when it fits
//     (the chunk's headingPath is then the sections' common prefix).
//  5. Overlap: the next chunk of the same section starts with the previous
//     chunk's trailing whole sentences (or, if they are too long, words) worth
//     at most overlapTokens. Chunks never overlap across sections.
//
// Locality (what incremental re-embedding relies on): packing is a left-to-right
// greedy scan whose decisions depend only on pieces already seen plus the next
// one, and every section restarts it. Editing one paragraph therefore changes
// at most the chunk just before the first chunk touching the edit, the chunks
// touching it and the rest of its section; chunks of other sections keep their
// text (later ones with shifted offsets). The one exception is a small merged
// section (point 4) next to the edited one.
import type { Chunk, ExtractedDocument, TextBlock } from "./types.ts";
import { tokenCounterTraits, type CountTokens } from "./tokens.ts";

export interface ChunkOptions {
  /** Hard ceiling of every chunk's token count. Default 512. */
  maxTokens?: number;
  /** Target trailing context shared by consecutive chunks of a section. Default round(0.15 × maxTokens). */
  overlapTokens?: number;
  /** Token counter; pass the function returned by createTokenCounter to get the exact-sum fast path. */
  countTokens: CountTokens;
}

export const BLOCK_SEPARATOR = "\n\n";

/** The document's canonical text: block texts joined by "\n\n" (headings included). */
export function canonicalText(doc: Pick<ExtractedDocument, "blocks">): string {
  return doc.blocks.map((b) => b.text).join(BLOCK_SEPARATOR);
}

/** Chunks plain text; offsets refer to `text` itself (one block; blank lines act as block boundaries). */
export function chunkText(text: string, options: ChunkOptions): Chunk[] {
  return chunkDocument({ blocks: [{ kind: "paragraph", text }], meta: {} }, options);
}

export function chunkDocument(doc: ExtractedDocument, options: ChunkOptions): Chunk[] {
  return new Chunker(doc, options).run();
}

// Boundary strengths (the level of the boundary *before* a piece).
const GRAPHEME = 0;
const SUBWORD = 1;
const WORD = 2;
const SENTENCE = 3;
const BLOCK = 4;
const SECTION = 5;

/** How a piece can be cut further. */
type Split = "lines" | "sentences" | "words" | "subwords" | "graphemes" | "none";

interface Piece {
  /** Tile: [start, end) partitions the text between consecutive cuts; `tokens` counts it. */
  start: number;
  end: number;
  /** Content: the tile without surrounding whitespace (never empty). */
  cs: number;
  ce: number;
  tokens: number;
  level: number;
  /** Whether the cut at `end` is safe (see `#cut`). */
  safeAfter: boolean;
  heading: boolean;
  /** From a code or table block: overlap takes whole lines only. */
  lines: boolean;
  section: number;
  split: Split;
}

interface Section {
  path: string[];
  hasContent: boolean;
}

/** A run of blocks packed together: heading-only sections followed by one section with content. */
interface Group {
  blocks: number[];
}

const MIN_FILL = 0.5;

let sentenceSegmenter: Intl.Segmenter | undefined;
let wordSegmenter: Intl.Segmenter | undefined;
let graphemeSegmenter: Intl.Segmenter | undefined;
// A fixed locale keeps chunking identical on every machine (ICU's rules are the root rules anyway).
const segmentSentences = (s: string) => (sentenceSegmenter ??= new Intl.Segmenter("en", { granularity: "sentence" })).segment(s);
const segmentWords = (s: string) => (wordSegmenter ??= new Intl.Segmenter("en", { granularity: "word" })).segment(s);
const segmentGraphemes = (s: string) => (graphemeSegmenter ??= new Intl.Segmenter("en", { granularity: "grapheme" })).segment(s);

/** JavaScript's \s (what the tiktoken pre-tokenizer regexes use). */
function isWs(c: number): boolean {
  return (
    c === 32 ||
    (c >= 9 && c <= 13) ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** "Mr. ", "Dr. ", "St. ": a sentence break after these is almost always wrong. */
const ABBREVIATION = /^\p{Lu}\p{Ll}{0,3}\.$/u;
/**
 * Whether text[from, to) has a character after which ICU may end a sentence
 * (a superset is fine: it only decides whether to consult the segmenter).
 */
function hasTerminator(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 || c === 33 || c === 63 || c === 10 || c === 13) return true;
    if (c >= 0x80 && TERMINATOR.test(text[i] as string)) return true;
  }
  return false;
}
const TERMINATOR = /[\u0085\u2028\u2029\u2026\u203c\u2047-\u2049\u0589\u061f\u06d4\u0700-\u0702\u0964\u0965\u1362\u1367\u1368\u166e\u1803\u1809\u3002\ufe52\ufe56\ufe57\uff01\uff0e\uff1f\uff61]/;

function normalizeHeading(text: string): string {
  return text.trim().replace(/\s+/g, " ");
}

function commonPrefix(a: string[], b: string[]): string[] {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i === a.length ? a : a.slice(0, i);
}

class Chunker {
  readonly #doc: ExtractedDocument;
  readonly #text: string;
  readonly #count: CountTokens;
  readonly #additive: boolean;
  readonly #max: number;
  readonly #overlap: number;
  readonly #unitBudget: number;
  readonly #mergeBelow: number;
  readonly #blockStarts: number[] = [];
  readonly #sections: Section[] = [];
  /** Section index of every block (-1 for blank blocks). */
  readonly #blockSection: number[] = [];
  #sentences: Intl.Segments | undefined;

  // Packing state.
  #cur: Piece[] = [];
  #curTokens = 0;
  /** How many leading pieces of #cur are overlap carried from the previous chunk. */
  #curOverlap = 0;
  /** Pieces to process before the rest of the queue (LIFO). */
  #front: Piece[] = [];
  readonly #out: Chunk[] = [];

  constructor(doc: ExtractedDocument, options: ChunkOptions) {
    const max = options.maxTokens ?? 512;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxTokens must be a positive integer, got ${max}`);
    const overlap = options.overlapTokens ?? Math.round(max * 0.15);
    if (!Number.isInteger(overlap) || overlap < 0) throw new RangeError(`overlapTokens must be a non-negative integer, got ${overlap}`);
    if (typeof options.countTokens !== "function") throw new TypeError("countTokens is required");
    this.#doc = doc;
    this.#text = canonicalText(doc);
    this.#count = options.countTokens;
    this.#additive = tokenCounterTraits(options.countTokens)?.additiveAtSafeCuts === true;
    this.#max = max;
    this.#overlap = Math.min(overlap, Math.floor(max / 2));
    this.#unitBudget = Math.max(1, max - this.#overlap);
    this.#mergeBelow = Math.floor(max / 4);
  }

  run(): Chunk[] {
    const groups = this.#structure();
    for (const group of groups) {
      const pieces = this.#groupPieces(group);
      if (pieces.length === 0) continue;
      if (this.#cur.length > 0) {
        let groupTokens = 0;
        for (const p of pieces) groupTokens += p.tokens;
        // A small trailing chunk absorbs the whole next section if it fits; otherwise sections never share chunks.
        if (!(this.#curTokens < this.#mergeBelow && this.#curTokens + groupTokens <= this.#max)) this.#flush();
      }
      this.#pack(pieces);
    }
    this.#flush();
    return this.#out;
  }

  // ---- structure ------------------------------------------------------------

  #structure(): Group[] {
    const blocks = this.#doc.blocks;
    const stack: { level: number; text: string }[] = [];
    let pos = 0;
    let current = -1;
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i] as TextBlock;
      this.#blockStarts.push(pos);
      pos += b.text.length + BLOCK_SEPARATOR.length;
      if (b.text.trim() === "") {
        this.#blockSection.push(-1);
        continue;
      }
      if (b.kind === "heading") {
        const raw = b.level ?? 1;
        const level = Number.isFinite(raw) ? Math.min(6, Math.max(1, Math.trunc(raw))) : 1;
        while (stack.length > 0 && (stack[stack.length - 1] as { level: number }).level >= level) stack.pop();
        stack.push({ level, text: normalizeHeading(b.text) });
        this.#sections.push({ path: stack.map((h) => h.text), hasContent: false });
        current = this.#sections.length - 1;
      } else {
        if (current < 0) {
          this.#sections.push({ path: [], hasContent: false });
          current = 0;
        }
        (this.#sections[current] as Section).hasContent = true;
      }
      this.#blockSection.push(current);
    }
    const groups: Group[] = [];
    let pending: number[] = [];
    let lastSection = -1;
    for (let i = 0; i < blocks.length; i++) {
      const s = this.#blockSection[i] as number;
      if (s < 0) continue;
      if (s !== lastSection && pending.length > 0 && (this.#sections[lastSection] as Section).hasContent) {
        groups.push({ blocks: pending });
        pending = [];
      }
      pending.push(i);
      lastSection = s;
    }
    if (pending.length > 0) groups.push({ blocks: pending });
    return groups;
  }

  // ---- pieces -----------------------------------------------------------------

  #groupPieces(group: Group): Piece[] {
    const text = this.#text;
    const out: Piece[] = [];
    const first = group.blocks[0] as number;
    let prevSection = -1;
    for (let k = 0; k < group.blocks.length; k++) {
      const bi = group.blocks[k] as number;
      const block = this.#doc.blocks[bi] as TextBlock;
      const base = this.#blockStarts[bi] as number;
      let cs = base;
      let ce = base + block.text.length;
      while (cs < ce && isWs(text.charCodeAt(cs))) cs++;
      while (ce > cs && isWs(text.charCodeAt(ce - 1))) ce--;
      const section = this.#blockSection[bi] as number;
      const heading = block.kind === "heading";
      const level = bi === first || section !== prevSection ? SECTION : BLOCK;
      prevSection = section;
      const start = this.#cutBefore(cs);
      const after = this.#cutAfter(ce);
      const lines = block.kind === "code" || block.kind === "table";
      const split: Split = heading ? "words" : lines ? "lines" : "sentences";
      // Headings are counted whole; content blocks go straight to sentences (counting the block would be a second pass).
      const tokens = heading ? this.#count(text.slice(start, after.pos)) : -1;
      this.#explode({ start, end: after.pos, cs, ce, tokens, level, safeAfter: after.safe, heading, lines, section, split }, out);
    }
    return out;
  }

  /** The cut inside the whitespace run that ends at `cs` (or `cs` at the start of the text). */
  #cutBefore(cs: number): number {
    let ws = cs;
    while (ws > 0 && isWs(this.#text.charCodeAt(ws - 1))) ws--;
    return ws === 0 ? cs : this.#cut(ws, cs).pos;
  }

  /** The cut inside the whitespace run that starts at `ce`. */
  #cutAfter(ce: number): { pos: number; safe: boolean } {
    const text = this.#text;
    let ws = ce;
    while (ws < text.length && isWs(text.charCodeAt(ws))) ws++;
    return this.#cut(ce, ws);
  }

  /**
   * Where to cut the whitespace run [ws, we) between two non-whitespace
   * characters (or the end of the text), and whether the cut is *safe*: no
   * tiktoken pre-token spans it, so count(left + right) = count(left) + count(right).
   *  - after the run's last \r/\n: the newline pre-token (`\s*[\r\n]+`, or
   *    punctuation absorbing `[\r\n]*`) ends there and the next one starts
   *    fresh; unsafe only before "/" (o200k's punctuation also absorbs "/").
   *  - no newline: at the run's start. Nothing but whitespace pre-tokens can
   *    contain a space, and they cannot start with a non-space.
   *  - empty run (CJK sentences, word segments): unsafe.
   */
  #cut(ws: number, we: number): { pos: number; safe: boolean } {
    if (ws === we) return { pos: ws, safe: false };
    const text = this.#text;
    for (let i = we - 1; i >= ws; i--) {
      const c = text.charCodeAt(i);
      if (c === 10 || c === 13) {
        const p = i + 1;
        return { pos: p, safe: p >= text.length || text.charCodeAt(p) !== 47 };
      }
    }
    return { pos: ws, safe: true };
  }

  /** Content spans [cs, ce) of `piece` at its split mode (whitespace-trimmed, in order). */
  #spans(piece: Piece): number[] {
    const text = this.#text;
    const spans: number[] = [];
    const push = (a: number, b: number): void => {
      while (a < b && isWs(text.charCodeAt(a))) a++;
      while (b > a && isWs(text.charCodeAt(b - 1))) b--;
      if (a < b) spans.push(a, b);
    };
    const { cs, ce } = piece;
    switch (piece.split) {
      case "sentences": {
        // Most short blocks (headings, captions, list items) are one sentence: skip the segmenter.
        if (!hasTerminator(text, cs, ce - 1)) {
          spans.push(cs, ce);
          break;
        }
        // One segmentation of the whole canonical text (segmenting block by block costs 3x more);
        // "\n\n" is a paragraph separator for ICU, so no sentence spans two blocks.
        const sentences = (this.#sentences ??= segmentSentences(text));
        let from = cs;
        for (let at = cs; ; ) {
          const seg = sentences.containing(at);
          if (seg === undefined) break;
          const b = seg.index + seg.segment.length;
          if (b >= ce) break;
          at = b;
          // Keep "Mr. Smith" together, and never cut where no whitespace separates two sentences
          // next to ASCII ("Asia.[12] New", "end.Next"): such a cut is useless and not a safe count cut.
          // CJK sentences ("。我") have no whitespace between them and do get cut.
          const nextChar = text.charCodeAt(b);
          if (isWs(nextChar)) {
            if (b - from <= 6 && ABBREVIATION.test(text.slice(from, b).trim())) continue;
          } else if (nextChar < 0x80 || text.charCodeAt(b - 1) < 0x80) continue;
          push(from, b);
          from = b;
        }
        push(from, ce);
        break;
      }
      case "lines": {
        let a = cs;
        for (let i = cs; i < ce; i++) {
          if (text.charCodeAt(i) === 10) {
            push(a, i);
            a = i + 1;
          }
        }
        push(a, ce);
        break;
      }
      case "words": {
        let a = -1;
        for (let i = cs; i < ce; i++) {
          const w = isWs(text.charCodeAt(i));
          if (!w && a < 0) a = i;
          else if (w && a >= 0) {
            spans.push(a, i);
            a = -1;
          }
        }
        if (a >= 0) spans.push(a, ce);
        break;
      }
      case "subwords": {
        // Word-segmenter boundaries inside one whitespace-free run: CJK words, URL parts.
        let a = cs;
        for (const seg of segmentWords(text.slice(cs, ce))) {
          const b = cs + seg.index + seg.segment.length;
          if (b > a && b < ce) {
            spans.push(a, b);
            a = b;
          }
        }
        spans.push(a, ce);
        break;
      }
      case "graphemes":
        return this.#graphemeSpans(piece);
      case "none":
        spans.push(cs, ce);
        break;
    }
    return spans;
  }

  /** Cuts a run with no word boundary into grapheme-aligned spans of at most the unit budget. */
  #graphemeSpans(piece: Piece): number[] {
    const text = this.#text;
    const bounds: number[] = [];
    for (const seg of segmentGraphemes(text.slice(piece.cs, piece.ce))) bounds.push(piece.cs + seg.index);
    bounds.push(piece.ce);
    const budget = this.#unitBudget;
    const spans: number[] = [];
    let from = 0; // index into bounds
    while (from < bounds.length - 1) {
      const a = bounds[from] as number;
      const tileStart = from === 0 ? piece.start : a;
      const fits = (to: number): boolean => {
        const b = bounds[to] as number;
        const tileEnd = to === bounds.length - 1 ? piece.end : b;
        return this.#count(text.slice(tileStart, tileEnd)) <= budget;
      };
      // Gallop (probes cost O(probe length), so a huge run costs O(n log n), not O(n²)),
      // then binary search for the furthest boundary that fits (at least one grapheme).
      const last = bounds.length - 1;
      let lo = from + 1;
      let step = Math.max(1, budget);
      let hi = Math.min(last, from + step);
      while (hi < last && fits(hi)) {
        lo = hi;
        step *= 2;
        hi = Math.min(last, from + step);
      }
      if (hi === last && fits(last)) lo = last;
      else {
        // lo fits (or is the one-grapheme minimum); hi does not.
        while (hi - lo > 1) {
          const mid = (lo + hi) >> 1;
          if (fits(mid)) lo = mid;
          else hi = mid;
        }
      }
      spans.push(a, bounds[lo] as number);
      from = lo;
    }
    return spans;
  }

  /** Appends `piece` to `out`, cut finer (recursively) while it is over the unit budget. tokens < 0: not counted yet. */
  #explode(piece: Piece, out: Piece[]): void {
    for (;;) {
      if (piece.tokens >= 0 && (piece.tokens <= this.#unitBudget || piece.split === "none")) {
        out.push(piece);
        return;
      }
      if (piece.split === "none") {
        piece.tokens = this.#count(this.#text.slice(piece.start, piece.end));
        continue;
      }
      const spans = this.#spans(piece);
      if (spans.length > 2) {
        for (const child of this.#children(piece, spans)) {
          if (child.tokens > this.#unitBudget) this.#explode(child, out);
          else out.push(child);
        }
        return;
      }
      // One unit at this level: it is the piece itself, to be cut at the next level if need be.
      piece.split = nextSplit(piece.split);
      if (piece.tokens < 0) piece.tokens = this.#count(this.#text.slice(piece.start, piece.end));
    }
  }

  /** `piece` cut into at least two pieces (each within the unit budget), or [] when it cannot be cut. */
  #forceSplit(piece: Piece): Piece[] {
    for (let split = piece.split; split !== "none"; split = nextSplit(split)) {
      const at = { ...piece, split };
      const spans = this.#spans(at);
      if (spans.length > 2) {
        const out: Piece[] = [];
        for (const child of this.#children(at, spans)) {
          if (child.tokens > this.#unitBudget) this.#explode(child, out);
          else out.push(child);
        }
        return out;
      }
    }
    return [];
  }

  /** Counted pieces for `spans` of `piece` (cut at `piece.split`), tiling the parent's tile. */
  #children(piece: Piece, spans: number[]): Piece[] {
    const inner = splitLevel(piece.split);
    const childSplit = nextSplit(piece.split);
    const text = this.#text;
    const out: Piece[] = [];
    let start = piece.start;
    for (let i = 0; i < spans.length; i += 2) {
      const cs = spans[i] as number;
      const ce = spans[i + 1] as number;
      let level = piece.level;
      let end = piece.end;
      let safeAfter = piece.safeAfter;
      if (i > 0) {
        level = inner;
        if (inner === SENTENCE) {
          // A blank line between sentences of one block (chunkText) is a block boundary.
          let newlines = 0;
          for (let j = spans[i - 1] as number; j < cs; j++) if (text.charCodeAt(j) === 10) newlines++;
          if (newlines >= 2) level = BLOCK;
        }
      }
      if (i + 2 < spans.length) {
        const c = this.#cut(ce, spans[i + 2] as number);
        end = c.pos;
        safeAfter = c.safe;
      }
      out.push({ start, end, cs, ce, tokens: this.#count(text.slice(start, end)), level, safeAfter, heading: piece.heading, lines: piece.lines, section: piece.section, split: childSplit });
      start = end;
    }
    return out;
  }

  // ---- packing ----------------------------------------------------------------

  #pack(queue: Piece[]): void {
    let qi = 0;
    const next = (): Piece | undefined => (this.#front.length > 0 ? this.#front.pop() : queue[qi++]);
    for (let piece = next(); piece !== undefined; piece = next()) {
      if (this.#cur.length === 0 || this.#curTokens + piece.tokens <= this.#max) {
        this.#add(piece);
        continue;
      }
      if (this.#cur.length === this.#curOverlap) {
        // Only carried-over context so far: give up as much of it as the new piece needs.
        while (this.#cur.length > 0 && this.#curTokens + piece.tokens > this.#max) this.#shift();
        this.#add(piece);
        continue;
      }
      if (this.#onlyHeadings() && piece.split !== "none") {
        // Keep headings with their content: cut the piece finer so a part of it joins them.
        const finer = this.#forceSplit(piece);
        if (finer.length > 1) {
          this.#requeue(finer);
          continue;
        }
      }
      this.#close(piece);
    }
  }

  #add(piece: Piece): void {
    this.#cur.push(piece);
    this.#curTokens += piece.tokens;
  }

  #shift(): void {
    const p = this.#cur.shift();
    if (p) this.#curTokens -= p.tokens;
    if (this.#curOverlap > 0) this.#curOverlap--;
  }

  #onlyHeadings(): boolean {
    for (let i = this.#curOverlap; i < this.#cur.length; i++) if (!(this.#cur[i] as Piece).heading) return false;
    return true;
  }

  /** Pieces pushed back to be processed next, in order. */
  #requeue(pieces: Piece[]): void {
    for (let i = pieces.length - 1; i >= 0; i--) this.#front.push(pieces[i] as Piece);
  }

  /** Ends the current chunk because `next` does not fit (or at the end of the input when null). */
  #close(next: Piece | null): void {
    const cur = this.#cur;
    const ov = this.#curOverlap;
    // Choose where to end: the strongest boundary that keeps the chunk at least MIN_FILL full.
    let best = -1;
    let bestLevel = -1;
    let fallback = -1;
    if (next === null) best = cur.length - 1;
    else {
      let fill = this.#curTokens;
      for (let m = cur.length - 1; m >= ov; m--) {
        const p = cur[m] as Piece;
        if (!p.heading) {
          if (fallback < 0) fallback = m;
          const level = m === cur.length - 1 ? next.level : (cur[m + 1] as Piece).level;
          if (fill >= MIN_FILL * this.#max && level > bestLevel) {
            best = m;
            bestLevel = level;
          }
        }
        fill -= p.tokens;
      }
      if (best < 0) best = fallback >= 0 ? fallback : cur.length - 1;
    }
    const chunk = cur.slice(0, best + 1);
    const rest = cur.slice(best + 1);
    if (next) rest.push(next);
    // Verify: the exact count of the chunk's text; move pieces out until it fits.
    let exact = this.#exactCount(chunk);
    while (exact > this.#max && chunk.length > Math.max(1, ov + 1)) {
      rest.unshift(chunk.pop() as Piece);
      exact = this.#exactCount(chunk);
    }
    while (exact > this.#max && chunk.length > 1) {
      // The last new piece does not fit even after its overlap: drop the overlap.
      chunk.shift();
      exact = this.#exactCount(chunk);
    }
    if (exact > this.#max && chunk.length === 1) {
      const finer = this.#forceSplit(chunk[0] as Piece);
      if (finer.length > 1) {
        this.#cur = [];
        this.#curTokens = 0;
        this.#curOverlap = 0;
        this.#requeue([...finer, ...rest]);
        return;
      }
    }
    this.#emit(chunk, exact);
    const endLevel = rest.length > 0 ? (rest[0] as Piece).level : SECTION;
    const overlap = endLevel >= SECTION ? [] : this.#overlapOf(chunk);
    this.#cur = overlap;
    this.#curOverlap = overlap.length;
    this.#curTokens = 0;
    for (const p of overlap) this.#curTokens += p.tokens;
    this.#requeue(rest);
  }

  /** Emits whatever is pending (end of a group that is not merged into the next one, or of the document). */
  #flush(): void {
    while (this.#cur.length > this.#curOverlap) {
      this.#close(null);
      // #close may have pushed pieces back (verification or refinement): pack them.
      if (this.#front.length > 0) this.#pack([]);
    }
    this.#cur = [];
    this.#curTokens = 0;
    this.#curOverlap = 0;
  }

  /** Trailing context of an emitted chunk: whole pieces, or words of the last one that does not fit. */
  #overlapOf(chunk: Piece[]): Piece[] {
    const budget = this.#overlap;
    if (budget <= 0) return [];
    const taken: Piece[] = [];
    let sum = 0;
    let k = chunk.length - 1;
    for (; k >= 1; k--) {
      const p = chunk[k] as Piece;
      if (p.heading || sum + p.tokens > budget) break;
      taken.push(p);
      sum += p.tokens;
      if (p.level >= SECTION) return taken.reverse();
    }
    const partial = chunk[k] as Piece;
    if (sum < budget / 2 && !partial.heading && !partial.lines) {
      const words = this.#wordsOf(partial);
      for (let j = words.length - 1; j >= 1; j--) {
        const w = words[j] as Piece;
        if (sum + w.tokens > budget) break;
        taken.push(w);
        sum += w.tokens;
      }
    }
    return taken.reverse();
  }

  /** Word pieces of `piece` (no recursion), for partial overlap. */
  #wordsOf(piece: Piece): Piece[] {
    const spans = this.#spans({ ...piece, split: "words" });
    if (spans.length <= 2) return [];
    const out: Piece[] = [];
    const text = this.#text;
    let start = piece.start;
    for (let i = 0; i < spans.length; i += 2) {
      const cs = spans[i] as number;
      const ce = spans[i + 1] as number;
      const last = i + 2 >= spans.length;
      const c = last ? { pos: piece.end, safe: piece.safeAfter } : this.#cut(ce, spans[i + 2] as number);
      out.push({ start, end: c.pos, cs, ce, tokens: this.#count(text.slice(start, c.pos)), level: i === 0 ? piece.level : WORD, safeAfter: c.safe, heading: false, lines: false, section: piece.section, split: "subwords" });
      start = c.pos;
    }
    return out;
  }

  /** The counter's exact count of the chunk's text, from tile counts where that is provably exact. */
  #exactCount(chunk: Piece[]): number {
    const first = chunk[0] as Piece;
    const last = chunk[chunk.length - 1] as Piece;
    const text = this.#text;
    if (chunk.length === 1) return first.start === first.cs && first.end === first.ce ? first.tokens : this.#count(text.slice(first.cs, first.ce));
    let exact = this.#additive;
    for (let i = 0; exact && i < chunk.length - 1; i++) {
      const p = chunk[i] as Piece;
      if (!p.safeAfter || p.end !== (chunk[i + 1] as Piece).start) exact = false;
    }
    if (!exact) return this.#count(text.slice(first.cs, last.ce));
    let total = first.start === first.cs ? first.tokens : this.#count(text.slice(first.cs, first.end));
    for (let i = 1; i < chunk.length - 1; i++) total += (chunk[i] as Piece).tokens;
    total += last.end === last.ce ? last.tokens : this.#count(text.slice(last.start, last.ce));
    return total;
  }

  #emit(chunk: Piece[], tokenCount: number): void {
    const first = chunk[0] as Piece;
    const last = chunk[chunk.length - 1] as Piece;
    const charStart = first.cs;
    const charEnd = last.ce;
    let path: string[] | undefined;
    let anyContent = false;
    for (const p of chunk) if (!p.heading) anyContent = true;
    let prevSection = -1;
    for (const p of chunk) {
      if ((anyContent && p.heading) || p.section === prevSection) continue;
      prevSection = p.section;
      const sp = (this.#sections[p.section] as Section).path;
      path = path === undefined ? sp : commonPrefix(path, sp);
    }
    const c: Chunk = { index: this.#out.length, text: this.#text.slice(charStart, charEnd), tokenCount, headingPath: [...(path ?? [])], charStart, charEnd };
    const pages = this.#pages(charStart, charEnd);
    if (pages) {
      c.pageStart = pages[0];
      c.pageEnd = pages[1];
    }
    this.#out.push(c);
  }

  #blockAt(pos: number): number {
    const starts = this.#blockStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  #pages(charStart: number, charEnd: number): [number, number] | undefined {
    let min = Infinity;
    let max = -Infinity;
    const from = this.#blockAt(charStart);
    const to = this.#blockAt(charEnd - 1);
    for (let i = from; i <= to; i++) {
      const page = (this.#doc.blocks[i] as TextBlock).page;
      if (page === undefined || this.#blockSection[i] === -1) continue;
      if (page < min) min = page;
      if (page > max) max = page;
    }
    return min === Infinity ? undefined : [min, max];
  }
}

function nextSplit(split: Split): Split {
  switch (split) {
    case "lines":
    case "sentences":
      return "words";
    case "words":
      return "subwords";
    case "subwords":
      return "graphemes";
    default:
      return "none";
  }
}

function splitLevel(split: Split): number {
  switch (split) {
    case "lines":
    case "sentences":
      return SENTENCE;
    case "words":
      return WORD;
    case "subwords":
      return SUBWORD;
    default:
      return GRAPHEME;
  }
}
