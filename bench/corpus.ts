// The end-to-end ingestion corpus: deterministic documents written into a storage
// directory, referenced by documents rows through file_path (relative to the root).
// Mix by count: text (.txt) and Markdown make up the bulk, HTML pages with site chrome
// around an <article>, and a minority of multi-page text PDFs.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { writePdf, type PdfBlock } from "./pdf-writer.ts";
import { article, articleHtml, articleMarkdown, articleText, Prose, type Article } from "./prose.ts";

export type CorpusKind = "text" | "markdown" | "html" | "pdf";

export interface CorpusDocument {
  title: string;
  source_type: string;
  file_path: string;
  mime_type: string;
  kind: CorpusKind;
  bytes: number;
}

export interface CorpusStats {
  documents: number;
  bytes: number;
  byKind: Record<CorpusKind, { documents: number; bytes: number }>;
  ms: number;
}

export interface CorpusOptions {
  dir: string;
  documents: number;
  /** Target total size of the files in bytes. */
  totalBytes: number;
  /** Share of PDFs by count. Default 0.15. */
  pdfShare?: number;
  /** Share of HTML pages by count. Default 0.25. */
  htmlShare?: number;
  seed?: number;
}

function pdfBlocks(art: Article): PdfBlock[] {
  const blocks: PdfBlock[] = [];
  for (const s of art.sections) {
    blocks.push({ kind: "heading", text: s.heading });
    for (const b of s.blocks) {
      if (b.kind === "p") blocks.push({ kind: "paragraph", text: b.text });
      else for (const i of b.items) blocks.push({ kind: "item", text: i });
    }
  }
  return blocks;
}

/** Writes the corpus files and returns one row description per document. */
export async function generateCorpus(options: CorpusOptions): Promise<{ documents: CorpusDocument[]; stats: CorpusStats }> {
  const started = performance.now();
  const prose = new Prose(options.seed ?? 20250601);
  const pdfShare = options.pdfShare ?? 0.15;
  const htmlShare = options.htmlShare ?? 0.25;
  const n = options.documents;

  // Kinds by count, interleaved deterministically so any prefix of the corpus is mixed too.
  const kinds: CorpusKind[] = [];
  for (let i = 0; i < n; i++) {
    const r = prose.random();
    kinds.push(r < pdfShare ? "pdf" : r < pdfShare + htmlShare ? "html" : r < pdfShare + htmlShare + (1 - pdfShare - htmlShare) / 2 ? "markdown" : "text");
  }
  // Sizes: log-normal (many small pages, a long tail of manuals), scaled to the total.
  // HTML carries ~6 KB of chrome and PDF ~15% of markup on top of the article text.
  const weights = kinds.map(() => Math.exp(0.75 * gaussian(prose.random)));
  const sum = weights.reduce((a, b) => a + b, 0);

  await mkdir(path.join(options.dir, "kb"), { recursive: true });
  const documents: CorpusDocument[] = [];
  const byKind: CorpusStats["byKind"] = {
    text: { documents: 0, bytes: 0 },
    markdown: { documents: 0, bytes: 0 },
    html: { documents: 0, bytes: 0 },
    pdf: { documents: 0, bytes: 0 },
  };
  let total = 0;
  for (let i = 0; i < n; i++) {
    const kind = kinds[i]!;
    const fileBytes = Math.max(600, (weights[i]! / sum) * options.totalBytes);
    // Text size for the file size: HTML adds ~6.5 KB of chrome (+3% markup), PDF ~1 KB (+18%).
    const textTarget =
      kind === "html" ? Math.max(400, (fileBytes - 6_500) / 1.03) : kind === "pdf" ? Math.max(400, (fileBytes - 1_000) / 1.18) : fileBytes;
    const art = article(prose, textTarget);
    const id = String(i + 1).padStart(6, "0");
    let file: string;
    let data: Buffer;
    let row: Omit<CorpusDocument, "file_path" | "bytes" | "kind">;
    switch (kind) {
      case "text":
        file = `kb/${id}.txt`;
        data = Buffer.from(articleText(art), "utf8");
        row = { title: art.title, source_type: "text", mime_type: "text/plain" };
        break;
      case "markdown":
        file = `kb/${id}.md`;
        data = Buffer.from(articleMarkdown(art), "utf8");
        row = { title: art.title, source_type: "markdown", mime_type: "text/markdown" };
        break;
      case "html":
        // Title left empty: the extractor finds it, as for an uploaded page.
        file = `kb/${id}.html`;
        data = Buffer.from(articleHtml(art, prose, prose.pick(["Example Outdoor Co.", "Acme Learning", "Northwind Help Center"])), "utf8");
        row = { title: "", source_type: "html", mime_type: "text/html" };
        break;
      case "pdf":
        file = `kb/${id}.pdf`;
        data = writePdf({ title: art.title, blocks: pdfBlocks(art) });
        row = { title: "", source_type: "pdf", mime_type: "application/pdf" };
        break;
    }
    await writeFile(path.join(options.dir, file), data);
    documents.push({ ...row, file_path: file, kind, bytes: data.length });
    byKind[kind].documents++;
    byKind[kind].bytes += data.length;
    total += data.length;
  }
  return { documents, stats: { documents: n, bytes: total, byKind, ms: Math.round(performance.now() - started) } };
}

/** Standard normal deviate (Box-Muller). */
function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Inline text documents for the rate-limit benchmark: help-centre sized, a different seed. */
export function generateInlineTexts(options: { seed: number; targetChars: number; minChars: number; maxChars: number }): { title: string; content: string }[] {
  const prose = new Prose(options.seed);
  const out: { title: string; content: string }[] = [];
  let chars = 0;
  while (chars < options.targetChars) {
    const art = article(prose, prose.int(options.minChars, options.maxChars));
    const content = articleMarkdown(art);
    out.push({ title: art.title, content });
    chars += content.length;
  }
  return out;
}
