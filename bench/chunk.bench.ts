// Chunker benchmark: ours vs @langchain/textsplitters RecursiveCharacterTextSplitter
// on ~5 MB of article text, same settings (512 tokens, 77 overlap) and the same
// cl100k_base counter. Run directly (`node bench/chunk.bench.ts`) to print JSON,
// or import `benchChunker`.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { RecursiveCharacterTextSplitter } from "@langchain/textsplitters";
import { Tiktoken } from "js-tiktoken/lite";
import cl100k_base from "js-tiktoken/ranks/cl100k_base";
import { canonicalText, chunkDocument } from "../src/ingest/chunk.ts";
import { createTokenCounter } from "../src/ingest/tokens.ts";
import type { ExtractedDocument, TextBlock } from "../src/ingest/types.ts";
import { rng } from "../test/support/random.ts";
import { htmlBlocks } from "../test/support/html-blocks.ts";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const corpusDir = path.resolve(projectRoot, process.env.BOTKIT_CORPUS_DIR ?? "../shared/corpus");

export interface ChunkerBenchResult {
  ours: { ms: number; chunks: number };
  langchain: { ms: number; chunks: number };
  /** langchain ms / ours ms */
  ratio: number;
  /**
   * LangChain as usually configured for token sizes (js-tiktoken's encode as the length
   * function) on the first ~1 MB only (it is slow), against ours on the same text.
   */
  langchainTiktoken: { chars: number; ms: number; chunks: number; oursMs: number; ratio: number };
  inputChars: number;
  source: "readability-corpus" | "generated";
}

function corpusPages(): TextBlock[][] {
  const dir = path.join(corpusDir, "html/readability");
  if (!existsSync(dir)) return [];
  const pages: TextBlock[][] = [];
  for (const name of readdirSync(dir).sort()) {
    const file = path.join(dir, name, "expected.html");
    if (!existsSync(file)) continue;
    const blocks = htmlBlocks(readFileSync(file, "utf8"));
    if (blocks.length > 0) pages.push(blocks);
  }
  return pages;
}


const WORDS = (
  "the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you were her she " +
  "there been one all we their has would when if more no out so said what up its about into than them can only other new some time " +
  "could these two may then do first any my now such like our over man me even most made after also did many before must through back " +
  "years where much your way well down should because each just those people how too little state good very make world still own see " +
  "men work long get here between both life being under never day same another know while last might us great old year off come since " +
  "against go came right used take three ingestion embedding vector database chunk token paragraph heading section document retrieval"
).split(" ");

function generatedPages(count: number, random: () => number): TextBlock[][] {
  const sentence = (): string => {
    const n = 6 + Math.floor(random() * 22);
    const words: string[] = [];
    for (let i = 0; i < n; i++) words.push(WORDS[Math.floor(random() * WORDS.length)] as string);
    const s = words.join(" ");
    return s.charAt(0).toUpperCase() + s.slice(1) + (random() < 0.1 ? "?" : ".");
  };
  const pages: TextBlock[][] = [];
  for (let p = 0; p < count; p++) {
    const blocks: TextBlock[] = [{ kind: "heading", level: 1, text: `Article ${p}: ${sentence()}` }];
    const sections = 2 + Math.floor(random() * 6);
    for (let s = 0; s < sections; s++) {
      blocks.push({ kind: "heading", level: 2, text: sentence() });
      const paragraphs = 1 + Math.floor(random() * 6);
      for (let i = 0; i < paragraphs; i++) {
        const sentences = 1 + Math.floor(random() * (random() < 0.1 ? 40 : 8));
        blocks.push({ kind: "paragraph", text: Array.from({ length: sentences }, sentence).join(" ") });
      }
    }
    pages.push(blocks);
  }
  return pages;
}

/** ~targetChars of text: the corpus pages in shuffled order, repeated; generated articles when the corpus is absent. */
export function benchDocument(targetChars = 5_000_000): { doc: ExtractedDocument; source: ChunkerBenchResult["source"] } {
  const random = rng(42);
  let pages = corpusPages();
  const source: ChunkerBenchResult["source"] = pages.length > 0 ? "readability-corpus" : "generated";
  if (pages.length === 0) pages = generatedPages(400, random);
  const blocks: TextBlock[] = [];
  let chars = 0;
  while (chars < targetChars) {
    const order = pages.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    for (const i of order) {
      for (const b of pages[i] as TextBlock[]) {
        blocks.push(b);
        chars += b.text.length + 2;
      }
      if (chars >= targetChars) break;
    }
  }
  return { doc: { blocks, meta: {} }, source };
}

export async function benchChunker(options: { targetChars?: number } = {}): Promise<ChunkerBenchResult> {
  const { doc, source } = benchDocument(options.targetChars);
  const text = canonicalText(doc);
  const countTokens = createTokenCounter("cl100k_base");
  const maxTokens = 512;
  const overlapTokens = 77;
  const splitter = new RecursiveCharacterTextSplitter({ chunkSize: maxTokens, chunkOverlap: overlapTokens, lengthFunction: countTokens });

  const runOurs = (): number => chunkDocument(doc, { maxTokens, overlapTokens, countTokens }).length;
  const runLangchain = async (): Promise<number> => (await splitter.splitText(text)).length;

  // Warm-up once each (JIT, segmenters, the counter's memo), then one timed run each.
  runOurs();
  await runLangchain();
  let t0 = performance.now();
  const oursChunks = runOurs();
  const oursMs = performance.now() - t0;
  t0 = performance.now();
  const lcChunks = await runLangchain();
  const lcMs = performance.now() - t0;
  // LangChain with js-tiktoken counting, on a ~1 MB prefix of the same blocks.
  const small: ExtractedDocument = { blocks: [], meta: {} };
  for (let chars = 0, i = 0; chars < 1_000_000 && i < doc.blocks.length; i++) {
    small.blocks.push(doc.blocks[i]!);
    chars += doc.blocks[i]!.text.length + 2;
  }
  const smallText = canonicalText(small);
  const encoder = new Tiktoken(cl100k_base);
  const tiktokenSplitter = new RecursiveCharacterTextSplitter({
    chunkSize: maxTokens,
    chunkOverlap: overlapTokens,
    lengthFunction: (s: string) => encoder.encode(s).length,
  });
  t0 = performance.now();
  const ttChunks = (await tiktokenSplitter.splitText(smallText)).length;
  const ttMs = performance.now() - t0;
  t0 = performance.now();
  chunkDocument(small, { maxTokens, overlapTokens, countTokens });
  const oursSmallMs = performance.now() - t0;

  const round = (n: number): number => Math.round(n * 10) / 10;
  return {
    langchainTiktoken: { chars: smallText.length, ms: round(ttMs), chunks: ttChunks, oursMs: round(oursSmallMs), ratio: Math.round((ttMs / oursSmallMs) * 100) / 100 },
    ours: { ms: round(oursMs), chunks: oursChunks },
    langchain: { ms: round(lcMs), chunks: lcChunks },
    ratio: Math.round((lcMs / oursMs) * 100) / 100,
    inputChars: text.length,
    source,
  };
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await benchChunker(), null, 2));
}
