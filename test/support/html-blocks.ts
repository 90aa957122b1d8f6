// A rough HTML → TextBlock reader for Readability's expected.html pages (headings,
// paragraphs, list items, preformatted text), shared by the chunker tests and benchmark.
import type { TextBlock } from "../../src/ingest/types.ts";

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " ", "#39": "'" };

export function htmlBlocks(html: string): TextBlock[] {
  const blocks: TextBlock[] = [];
  const re = /<(h[1-6]|p|li|pre|blockquote|td|figcaption)\b[^>]*>([\s\S]*?)<\/\1>/gi;
  for (let m = re.exec(html); m !== null; m = re.exec(html)) {
    const tag = (m[1] as string).toLowerCase();
    const text = (m[2] as string)
      .replace(/<[^>]+>/g, "")
      .replace(/&(#?\w+);/g, (all, name: string) => ENTITIES[name] ?? (/^#\d+$/.test(name) ? String.fromCodePoint(Number(name.slice(1))) : all))
      .replace(tag === "pre" ? /[ \t]+$/gm : /\s+/g, tag === "pre" ? "" : " ")
      .trim();
    if (text === "") continue;
    if (tag.startsWith("h")) blocks.push({ kind: "heading", level: Number(tag[1]), text });
    else blocks.push({ kind: tag === "pre" ? "code" : tag === "li" ? "list" : tag === "blockquote" ? "quote" : "paragraph", text });
  }
  return blocks;
}
