import { readdirSync, readFileSync } from "node:fs";
import { Tiktoken } from "js-tiktoken/lite";
import cl100k from "js-tiktoken/ranks/cl100k_base";
import { describe, expect, it } from "vitest";
import { canonicalText, chunkDocument, chunkText, type ChunkOptions } from "../../src/ingest/chunk.ts";
import { createTokenCounter, type CountTokens } from "../../src/ingest/tokens.ts";
import type { Chunk, ExtractedDocument, TextBlock } from "../../src/ingest/types.ts";
import { corpusAvailable, corpusPath } from "../support/corpus.ts";
import { rng } from "../support/random.ts";
import { htmlBlocks } from "../support/html-blocks.ts";

const cl = createTokenCounter("cl100k_base");

// ---- fixtures ----------------------------------------------------------------

/** Readable prose written for these tests (a made-up town library). */
const PROSE = [
  "The Millbrook public library reopened on a rainy Tuesday morning after eleven months of renovation. Volunteers had spent three weekends painting the shelves, and the children's corner now has a small wooden stage for story hour. Nobody expected the queue to reach the bakery across the street, but by nine o'clock it did.",
  "Most of the money came from a county grant, although a surprising share was raised by the bake sales that Mrs. Alvarez organised every Saturday. Dr. Okafor, who chairs the board, said the goal was simple: a building that people want to spend an afternoon in. The old reading room had one window and a radiator that clanked like a freight train.",
  "The new reading room faces the river. Its tall windows let in enough light that the lamps stay off until late afternoon in summer. There are forty seats, twelve of them at tables with power outlets, and a quiet zone upstairs where phones must be silenced.",
  "Borrowing rules have changed as well. Members can now keep books for four weeks instead of three, renew twice online, and return items at any branch in the county. Late fees for children's books were abolished entirely; the board decided that the fines cost more goodwill than they ever brought in.",
  "The digital catalogue was rebuilt from scratch. Searching by author, title or subject works as before, but the system also understands rough descriptions such as \"that blue novel about a lighthouse keeper\". Behind the scenes it splits every record into short passages, turns them into vectors and stores them in PostgreSQL.",
  "Not everyone is happy. A group of regulars misses the creaky armchairs that were sold at auction, and the parking lot lost six spaces to a bicycle shelter. The librarians have promised to review the seating after the first quarter and to publish the results on the noticeboard by the entrance.",
  "Events start next month. On Mondays there will be a repair café where volunteers fix lamps, toasters and bicycles; on Wednesdays a language exchange pairs newcomers with long-time residents; and on the first Friday of every month the local historical society will show photographs of Millbrook from the nineteen-twenties.",
  "The archive in the basement deserves a visit of its own. It holds parish registers going back to 1742, a complete run of the Millbrook Gazette, and a box of letters written by the engineer who designed the stone bridge. Researchers must book a slot in advance, wear cotton gloves and use pencils only.",
  "Opening hours are nine to eight on weekdays and ten to four on Saturdays. The building is closed on Sundays and public holidays. Wheelchair access is through the side entrance on Mill Lane, where there is also a lift to the upper floor and an accessible toilet.",
  "Asked what she was most proud of, the head librarian pointed at a shelf of well-worn picture books. \"Those were here before the renovation,\" she said. \"Every one of them has been borrowed at least a hundred times. That is what a library is for.\"",
];

const CJK =
  "北京是中华人民共和国的首都，也是全国的政治、文化和国际交往中心。这座城市有三千多年的建城史，故宫、天坛和颐和园每年吸引数以百万计的游客。" +
  "近年来，城市修建了许多新的地铁线路，市民出行更加方便。图书馆和博物馆在周末延长开放时间，很多家庭带着孩子去参观。" +
  "东京は日本の首都であり、世界有数の大都市です。週末には多くの人が公園や美術館を訪れます。서울은 한국의 수도이며 많은 사람들이 살고 있습니다。";


const WORDS =
  "the of and to in a is that for it as was with be by on not this are or from at which but have an they were her there been one all we their has would when if more no out so said what up its about into than them can only other new some time could these two may then do first any my now such like our over even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see work long get here between both life being under never day same another know while last might great old year off come since against go came right used take three ingestion embedding vector database chunk token paragraph heading section document retrieval café naïve façade Zürich".split(
    " ",
  );

function sentence(random: () => number): string {
  const n = 4 + Math.floor(random() * 24);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(WORDS[Math.floor(random() * WORDS.length)] as string);
  const s = words.join(" ");
  const end = random() < 0.1 ? "?" : random() < 0.1 ? "!" : ".";
  return s.charAt(0).toUpperCase() + s.slice(1) + end;
}

function paragraph(random: () => number, sentences: number): string {
  return Array.from({ length: sentences }, () => sentence(random)).join(" ");
}

/** A document with nested headings, lists, code, tables, odd whitespace, blank blocks and pages. */
function generatedDoc(seed: number): ExtractedDocument {
  const random = rng(seed);
  const blocks: TextBlock[] = [];
  let page = 1;
  const n = 5 + Math.floor(random() * 60);
  for (let i = 0; i < n; i++) {
    if (random() < 0.15) page++;
    const r = random();
    if (r < 0.2) blocks.push({ kind: "heading", level: 1 + Math.floor(random() * 4), text: sentence(random).slice(0, 10 + Math.floor(random() * 60)), page });
    else if (r < 0.3) blocks.push({ kind: "list", text: Array.from({ length: 1 + Math.floor(random() * 8) }, () => `- ${sentence(random)}`).join("\n"), page });
    else if (r < 0.35) blocks.push({ kind: "code", text: Array.from({ length: 1 + Math.floor(random() * 30) }, (_, j) => `${"  ".repeat(j % 4)}const x${j} = compute(${j}, "${sentence(random).slice(0, 20)}");`).join("\n"), page });
    else if (r < 0.38) blocks.push({ kind: "table", text: Array.from({ length: 1 + Math.floor(random() * 6) }, () => `| ${sentence(random).slice(0, 15)} | ${Math.floor(random() * 1e6)} |`).join("\n"), page });
    else if (r < 0.4) blocks.push({ kind: "paragraph", text: random() < 0.5 ? "" : "  \n\t ", page });
    else if (r < 0.43) blocks.push({ kind: "paragraph", text: `  ${paragraph(random, 2)}\n\n\n${paragraph(random, 1)}  `, page });
    else if (r < 0.45) blocks.push({ kind: "quote", text: PROSE[Math.floor(random() * PROSE.length)] as string, page });
    else if (r < 0.47) blocks.push({ kind: "paragraph", text: CJK.slice(0, 20 + Math.floor(random() * CJK.length)), page });
    else blocks.push({ kind: "paragraph", text: paragraph(random, 1 + Math.floor(random() * (random() < 0.1 ? 60 : 8))), page });
  }
  return { blocks, meta: {} };
}

// ---- invariants --------------------------------------------------------------

/** Every property a chunking must have; returns a list of violations (empty when fine). */
function violations(doc: ExtractedDocument, chunks: Chunk[], count: CountTokens, maxTokens: number): string[] {
  const canon = canonicalText(doc);
  const out: string[] = [];
  const covered = new Int32Array(canon.length + 1);
  let prevStart = -1;
  let prevEnd = -1;
  chunks.forEach((c, i) => {
    const where = `chunk ${i} [${c.charStart},${c.charEnd})`;
    if (c.index !== i) out.push(`${where}: index ${c.index}`);
    if (canon.slice(c.charStart, c.charEnd) !== c.text) out.push(`${where}: text is not the canonical slice`);
    if (c.text.trim() === "") out.push(`${where}: empty`);
    if (c.text.trim() !== c.text) out.push(`${where}: not trimmed`);
    if (!c.text.isWellFormed()) out.push(`${where}: lone surrogate`);
    const exact = count(c.text);
    if (c.tokenCount !== exact) out.push(`${where}: tokenCount ${c.tokenCount} != ${exact}`);
    // Allowed only when the chunk is one grapheme cluster (a family emoji is 13 cl100k tokens).
    if (c.tokenCount > maxTokens && [...graphemes.segment(c.text)].length > 1) out.push(`${where}: ${c.tokenCount} tokens > ${maxTokens}`);
    if (c.charStart < prevStart || c.charEnd <= prevEnd) out.push(`${where}: out of order after [${prevStart},${prevEnd})`);
    prevStart = c.charStart;
    prevEnd = c.charEnd;
    covered[c.charStart]! += 1;
    covered[c.charEnd]! -= 1;
  });
  let depth = 0;
  for (let i = 0; i < canon.length; i++) {
    depth += covered[i] as number;
    if (depth === 0 && /\S/.test(canon[i] as string)) {
      out.push(`char ${i} ${JSON.stringify(canon.slice(i, i + 20))} not covered`);
      break;
    }
  }
  return out;
}

const graphemes = new Intl.Segmenter("en", { granularity: "grapheme" });

function sameSection(a: Chunk, b: Chunk): boolean {
  return a.headingPath.join("\u0000") === b.headingPath.join("\u0000");
}

function graphemeBoundaries(text: string): Set<number> {
  const set = new Set<number>([text.length]);
  for (const s of new Intl.Segmenter("en", { granularity: "grapheme" }).segment(text)) set.add(s.index);
  return set;
}

// ---- tests ---------------------------------------------------------------------

describe("canonicalText", () => {
  it("joins block texts with a blank line", () => {
    expect(canonicalText({ blocks: [{ kind: "heading", level: 1, text: "Title" }, { kind: "paragraph", text: "Body." }] })).toBe("Title\n\nBody.");
  });
});

describe("chunkDocument invariants", () => {
  const configs: { maxTokens: number; overlapTokens?: number }[] = [{ maxTokens: 512 }, { maxTokens: 128 }, { maxTokens: 64, overlapTokens: 0 }, { maxTokens: 40, overlapTokens: 15 }, { maxTokens: 16 }];

  it("hold on generated documents (cl100k, exact-sum path)", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const doc = generatedDoc(seed);
      for (const cfg of configs) {
        const chunks = chunkDocument(doc, { ...cfg, countTokens: cl });
        expect(violations(doc, chunks, cl, cfg.maxTokens), `seed ${seed} ${JSON.stringify(cfg)}`).toEqual([]);
      }
    }
  });

  it("hold with o200k, the estimate and opaque counters (verification path)", () => {
    const ceilQuarter: CountTokens = (s) => Math.ceil(s.length / 4);
    const counters: [string, CountTokens][] = [
      ["o200k_base", createTokenCounter("o200k_base")],
      ["estimate", createTokenCounter("estimate")],
      ["chars/4", ceilQuarter],
      ["wrapped cl100k", (s) => cl(s)],
    ];
    for (let seed = 100; seed < 115; seed++) {
      const doc = generatedDoc(seed);
      for (const [name, count] of counters) {
        for (const maxTokens of [256, 48]) {
          const chunks = chunkDocument(doc, { maxTokens, countTokens: count });
          expect(violations(doc, chunks, count, maxTokens), `seed ${seed} ${name} ${maxTokens}`).toEqual([]);
        }
      }
    }
  });

  it("hold with js-tiktoken itself as an opaque counter", () => {
    const enc = new Tiktoken(cl100k);
    const count: CountTokens = (s) => enc.encode(s, [], []).length;
    for (const seed of [7, 8]) {
      const doc = generatedDoc(seed);
      const chunks = chunkDocument(doc, { maxTokens: 100, countTokens: count });
      expect(violations(doc, chunks, count, 100)).toEqual([]);
      // Same counts as the fast path, so the same chunks.
      expect(chunks).toEqual(chunkDocument(doc, { maxTokens: 100, countTokens: cl }));
    }
  });

  it("produce nothing for empty or whitespace-only documents", () => {
    const count = cl;
    expect(chunkDocument({ blocks: [], meta: {} }, { countTokens: count })).toEqual([]);
    expect(chunkDocument({ blocks: [{ kind: "paragraph", text: " \n\t " }, { kind: "heading", level: 2, text: "  " }], meta: {} }, { countTokens: count })).toEqual([]);
    expect(chunkText("", { countTokens: count })).toEqual([]);
  });

  it("are deterministic", () => {
    const doc = generatedDoc(5);
    const a = chunkDocument(doc, { maxTokens: 64, countTokens: cl });
    const b = chunkDocument(structuredClone(doc), { maxTokens: 64, countTokens: cl });
    expect(b).toEqual(a);
  });

  it("rejects bad options", () => {
    const doc = generatedDoc(1);
    expect(() => chunkDocument(doc, { maxTokens: 0, countTokens: cl })).toThrow(RangeError);
    expect(() => chunkDocument(doc, { maxTokens: 1.5, countTokens: cl })).toThrow(RangeError);
    expect(() => chunkDocument(doc, { overlapTokens: -1, countTokens: cl })).toThrow(RangeError);
    expect(() => chunkDocument(doc, {} as ChunkOptions)).toThrow(TypeError);
  });
});

describe.skipIf(!corpusAvailable)("chunkDocument on the readability corpus", () => {
  it("keeps every invariant on every page at 512 and 96 tokens", () => {
    const dir = corpusPath("html/readability");
    let pages = 0;
    for (const name of readdirSync(dir).sort()) {
      const blocks = htmlBlocks(readFileSync(`${dir}/${name}/expected.html`, "utf8"));
      if (blocks.length === 0) continue;
      pages++;
      const doc: ExtractedDocument = { blocks, meta: {} };
      for (const maxTokens of [512, 96]) {
        const chunks = chunkDocument(doc, { maxTokens, countTokens: cl });
        expect(violations(doc, chunks, cl, maxTokens), `${name} @${maxTokens}`).toEqual([]);
      }
    }
    expect(pages).toBeGreaterThan(100);
  });
});

describe("splitting", () => {
  it("never cuts inside a grapheme cluster or surrogate pair (emoji and CJK without spaces)", () => {
    const texts = ["👩‍👩‍👧".repeat(400), "🇯🇵🇺🇸🏳️‍🌈👍🏽".repeat(150), "北京是中华人民共和国的首都也是全国的政治文化中心".repeat(60), "e\u0301".repeat(3000)];
    for (const text of texts) {
      const bounds = graphemeBoundaries(text);
      for (const maxTokens of [7, 20, 64]) {
        const chunks = chunkText(text, { maxTokens, countTokens: cl });
        expect(violations({ blocks: [{ kind: "paragraph", text }], meta: {} }, chunks, cl, maxTokens)).toEqual([]);
        for (const c of chunks) {
          expect(bounds.has(c.charStart), `start ${c.charStart}`).toBe(true);
          expect(bounds.has(c.charEnd), `end ${c.charEnd}`).toBe(true);
        }
      }
    }
  });

  it("cuts CJK text at word boundaries, not inside words", () => {
    const text = "北京是中华人民共和国的首都也是全国的政治文化中心".repeat(40);
    const words = new Set<number>([text.length]);
    for (const s of new Intl.Segmenter("en", { granularity: "word" }).segment(text)) words.add(s.index);
    const chunks = chunkText(text, { maxTokens: 30, overlapTokens: 5, countTokens: cl });
    expect(chunks.length).toBeGreaterThan(10);
    for (const c of chunks) {
      expect(words.has(c.charStart)).toBe(true);
      expect(words.has(c.charEnd)).toBe(true);
    }
  });

  it("splits a 10,000-character URL-like token without error, at word parts first", () => {
    const random = rng(77);
    const tail = Array.from({ length: 10_000 }, () => "abcdefghijklmnopqrstuvwxyz0123456789"[Math.floor(random() * 36)]).join("");
    const text = `Download it from https://example.com/files/${tail}?token=abc today. Then run the installer.`;
    const t0 = performance.now();
    const chunks = chunkText(text, { maxTokens: 512, countTokens: cl });
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(violations({ blocks: [{ kind: "paragraph", text }], meta: {} }, chunks, cl, 512)).toEqual([]);
    expect(chunks.length).toBeGreaterThan(5);
    // The word before the URL and the URL's scheme stay whole.
    expect(chunks.some((c) => c.text.includes("https://example.com/files/"))).toBe(true);
    const letters = "a".repeat(10_000);
    const solid = chunkText(letters, { maxTokens: 64, countTokens: cl });
    expect(violations({ blocks: [{ kind: "paragraph", text: letters }], meta: {} }, solid, cl, 64)).toEqual([]);
  });

  it("cuts over-long sentences at word boundaries", () => {
    const text = Array.from({ length: 400 }, (_, i) => `word${i}`).join(" ") + ".";
    const chunks = chunkText(text, { maxTokens: 50, overlapTokens: 0, countTokens: cl });
    for (const c of chunks) {
      expect(c.charStart === 0 || text[c.charStart - 1] === " ").toBe(true);
      expect(c.charEnd === text.length || text[c.charEnd] === " ").toBe(true);
    }
  });

  it("splits code blocks at lines and over-long headings at words", () => {
    const code = Array.from({ length: 80 }, (_, i) => `    result_${i} = transform(input_${i}, factor=${i * 3})`).join("\n");
    const heading = Array.from({ length: 80 }, (_, i) => `Heading${i}`).join(" ");
    const doc: ExtractedDocument = { blocks: [{ kind: "heading", level: 1, text: heading }, { kind: "code", text: code }], meta: {} };
    const chunks = chunkDocument(doc, { maxTokens: 60, countTokens: cl });
    expect(violations(doc, chunks, cl, 60)).toEqual([]);
    const canon = canonicalText(doc);
    const codeStart = canon.indexOf(code);
    for (const c of chunks.filter((c) => c.charStart > codeStart)) expect(canon[c.charStart - 5]).toBe("\n"); // starts a line (after its 4-space indent)
  });

  it("packs greedily up to maxTokens and prefers paragraph ends", () => {
    const text = PROSE.join("\n\n");
    const chunks = chunkText(text, { maxTokens: 200, overlapTokens: 30, countTokens: cl });
    expect(violations({ blocks: [{ kind: "paragraph", text }], meta: {} }, chunks, cl, 200)).toEqual([]);
    const ends = chunks.slice(0, -1).map((c) => text.slice(c.charEnd, c.charEnd + 2));
    expect(ends.filter((e) => e === "\n\n").length).toBeGreaterThanOrEqual(ends.length - 1);
    for (const c of chunks.slice(0, -1)) expect(c.tokenCount).toBeGreaterThanOrEqual(100);
  });
});

describe("headings", () => {
  const random = rng(11);
  const para = (): string => paragraph(random, 3);
  const doc: ExtractedDocument = {
    blocks: [
      { kind: "paragraph", text: "Preface before any heading. " + para() },
      { kind: "heading", level: 1, text: "Guide" },
      { kind: "paragraph", text: para() },
      { kind: "heading", level: 2, text: "Install" },
      { kind: "heading", level: 3, text: "  Linux \n and BSD " },
      { kind: "paragraph", text: para() },
      { kind: "heading", level: 3, text: "macOS" },
      { kind: "list", text: "- brew install millbrook\n- millbrook init\n- " + para() },
      { kind: "heading", level: 2, text: "Usage" },
      { kind: "paragraph", text: para() },
      { kind: "heading", level: 1, text: "Appendix" },
      { kind: "heading", level: 4, text: "Deep" },
      { kind: "paragraph", text: para() },
      { kind: "heading", level: 2, text: "Trailing heading" },
    ],
    meta: {},
  };
  const chunks = chunkDocument(doc, { maxTokens: 120, countTokens: cl });

  it("keeps invariants", () => {
    expect(violations(doc, chunks, cl, 120)).toEqual([]);
  });

  it("gives each chunk the stack of enclosing headings", () => {
    const pathOf = (needle: string): string[] | undefined => chunks.find((c) => c.text.includes(needle))?.headingPath;
    expect(pathOf("Preface before")).toEqual([]);
    expect(pathOf("brew install")).toEqual(["Guide", "Install", "macOS"]);
    expect(pathOf("Usage")).toEqual(["Guide", "Usage"]);
    expect(pathOf("Deep")).toEqual(["Appendix", "Deep"]);
    expect(pathOf("Trailing heading")).toEqual(["Appendix", "Trailing heading"]);
    const linux = chunks.find((c) => c.text.includes("Linux"));
    expect(linux?.headingPath).toEqual(["Guide", "Install", "Linux and BSD"]);
    // A heading with no content of its own opens the next section's first chunk.
    expect(linux?.text.startsWith("Install\n\n  Linux")).toBe(true);
  });

  it("never leaves a heading alone in a chunk when content follows it", () => {
    const headings = new Set(doc.blocks.filter((b) => b.kind === "heading").map((b) => b.text.trim()));
    for (const c of chunks.slice(0, -1)) {
      const parts = c.text.split("\n\n").map((p) => p.trim());
      expect(parts.every((p) => headings.has(p)), JSON.stringify(c.text)).toBe(false);
    }
  });

  it("merges sections that are tiny into one chunk, with the common heading path", () => {
    const faq: ExtractedDocument = {
      blocks: [
        { kind: "heading", level: 1, text: "FAQ" },
        ...Array.from({ length: 6 }, (_, i) => [
          { kind: "heading" as const, level: 2, text: `Question ${i}?` },
          { kind: "paragraph" as const, text: `Answer ${i}.` },
        ]).flat(),
      ],
      meta: {},
    };
    const c = chunkDocument(faq, { maxTokens: 512, countTokens: cl });
    expect(c).toHaveLength(1);
    expect(c[0]?.headingPath).toEqual(["FAQ"]);
    // Sections big enough to stand alone are not merged.
    const big = chunkDocument(faq, { maxTokens: 40, countTokens: cl });
    expect(big.length).toBeGreaterThan(1);
  });
});

describe("pages", () => {
  it("spans the pages of the blocks a chunk touches", () => {
    for (let seed = 200; seed < 210; seed++) {
      const doc = generatedDoc(seed);
      const starts: number[] = [];
      let pos = 0;
      for (const b of doc.blocks) {
        starts.push(pos);
        pos += b.text.length + 2;
      }
      for (const c of chunkDocument(doc, { maxTokens: 96, countTokens: cl })) {
        const pages = doc.blocks
          .filter((b, i) => b.text.trim() !== "" && (starts[i] as number) < c.charEnd && (starts[i] as number) + b.text.length > c.charStart)
          .map((b) => b.page as number);
        expect([c.pageStart, c.pageEnd]).toEqual([Math.min(...pages), Math.max(...pages)]);
      }
    }
  });

  it("omits pages when blocks have none", () => {
    const [c] = chunkText("No pages here.", { countTokens: cl });
    expect(c).toBeDefined();
    expect(c && "pageStart" in c).toBe(false);
  });
});

describe("overlap", () => {
  const text = PROSE.join(" ");
  const opts = { maxTokens: 120, overlapTokens: 30, countTokens: cl };
  const chunks = chunkText(text, opts);

  it("shares at most ~overlapTokens of trailing context, starting at a word", () => {
    expect(chunks.length).toBeGreaterThan(4);
    for (let i = 1; i < chunks.length; i++) {
      const prev = chunks[i - 1] as Chunk;
      const next = chunks[i] as Chunk;
      expect(next.charStart, `chunk ${i}`).toBeLessThan(prev.charEnd);
      expect(next.charStart).toBeGreaterThan(prev.charStart);
      const shared = text.slice(next.charStart, prev.charEnd);
      expect(cl(shared)).toBeLessThanOrEqual(opts.overlapTokens + 2);
      expect(cl(shared)).toBeGreaterThan(0);
      expect(/\s/.test(text[next.charStart - 1] as string)).toBe(true);
    }
  });

  it("takes whole sentences when they fit", () => {
    const short = Array.from({ length: 120 }, (_, i) => `Item ${i} is ${["red", "green", "blue"][i % 3]}.`).join(" ");
    const cs = chunkText(short, opts);
    expect(cs.length).toBeGreaterThan(4);
    for (let i = 1; i < cs.length; i++) {
      const prev = cs[i - 1] as Chunk;
      const next = cs[i] as Chunk;
      expect(short.slice(next.charStart - 2, next.charStart)).toBe(". ");
      const shared = cl(short.slice(next.charStart, prev.charEnd));
      expect(shared).toBeGreaterThan(opts.overlapTokens - 8);
      expect(shared).toBeLessThanOrEqual(opts.overlapTokens);
    }
  });

  it("is absent with overlapTokens 0 and never crosses sections", () => {
    for (const c of chunkText(text, { ...opts, overlapTokens: 0 }).slice(1)) expect(text[c.charStart - 1]).toMatch(/\s/);
    const noOverlap = chunkText(text, { ...opts, overlapTokens: 0 });
    for (let i = 1; i < noOverlap.length; i++) expect((noOverlap[i] as Chunk).charStart).toBeGreaterThanOrEqual((noOverlap[i - 1] as Chunk).charEnd);
    for (let seed = 300; seed < 310; seed++) {
      const doc = generatedDoc(seed);
      const cs = chunkDocument(doc, { maxTokens: 64, countTokens: cl });
      for (let i = 1; i < cs.length; i++) {
        const prev = cs[i - 1] as Chunk;
        const next = cs[i] as Chunk;
        if (next.charStart < prev.charEnd) expect(sameSection(prev, next)).toBe(true);
      }
    }
  });
});

describe("incremental re-chunking", () => {
  it("an edit in one section leaves the chunks of every other section byte-identical", () => {
    const random = rng(5150);
    const blocks: TextBlock[] = [];
    for (let s = 0; s < 12; s++) {
      blocks.push({ kind: "heading", level: 2, text: `Section ${s}` });
      const paragraphs = s === 7 ? 6 : 3 + Math.floor(random() * 4);
      for (let p = 0; p < paragraphs; p++) blocks.push({ kind: "paragraph", text: paragraph(random, 2 + Math.floor(random() * 6)) });
    }
    const before: ExtractedDocument = { blocks, meta: {} };
    const target = blocks.findIndex((b) => b.text === "Section 7") + 5; // fifth paragraph of section 7
    const edited: ExtractedDocument = { blocks: blocks.map((b, i) => (i === target ? { ...b, text: b.text.replace(/ (\w+) /, " considerably more elaborate wording for the $1 ") } : b)), meta: {} };
    const delta = canonicalText(edited).length - canonicalText(before).length;
    expect(delta).toBeGreaterThan(0);

    for (const maxTokens of [64, 128, 512]) {
      const a = chunkDocument(before, { maxTokens, countTokens: cl });
      const b = chunkDocument(edited, { maxTokens, countTokens: cl });
      const canon = canonicalText(before);
      const sectionStart = canon.indexOf("Section 7");
      const sectionEnd = canon.indexOf("Section 8");
      const beforeSection = a.filter((c) => c.charEnd <= sectionStart);
      expect(beforeSection.length).toBeGreaterThan(0);
      expect(b.slice(0, beforeSection.length)).toEqual(beforeSection);
      const afterA = a.filter((c) => c.charStart >= sectionEnd);
      const afterB = b.filter((c) => c.charStart >= sectionEnd + delta);
      expect(afterB.map((c) => [c.text, c.tokenCount, c.headingPath, c.charStart - delta])).toEqual(afterA.map((c) => [c.text, c.tokenCount, c.headingPath, c.charStart]));
      // Within the section too, every chunk but the one just before the edited paragraph's chunk is kept.
      const editStart = canon.indexOf(blocks[target]?.text as string);
      const touching = a.findIndex((c) => c.charEnd >= editStart - 2);
      expect(b.slice(0, Math.max(0, touching - 1))).toEqual(a.slice(0, Math.max(0, touching - 1)));
      if (maxTokens === 64) expect(touching - 1).toBeGreaterThan(beforeSection.length); // the check above covered chunks of section 7
    }
  });
});

describe("chunkText", () => {
  it("uses offsets into the given text, blank lines as paragraph boundaries", () => {
    const text = "\r\n  " + PROSE.slice(0, 4).join("\r\n\r\n\r\n") + "\n\n";
    const chunks = chunkText(text, { maxTokens: 90, overlapTokens: 0, countTokens: cl });
    expect(violations({ blocks: [{ kind: "paragraph", text }], meta: {} }, chunks, cl, 90)).toEqual([]);
    for (const c of chunks) expect(text.slice(c.charStart, c.charEnd)).toBe(c.text);
    expect(chunks[0]?.headingPath).toEqual([]);
  });
});
