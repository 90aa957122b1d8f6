// What gets embedded for a chunk, and its hash: the hash covers exactly the embedded
// text, so equal hashes mean an embedding can be reused.
import { createHash } from "node:crypto";
import type { Chunk } from "./types.ts";

export function embedInput(chunk: Pick<Chunk, "text" | "headingPath">, title: string, prependContext: boolean): string {
  if (!prependContext) return chunk.text;
  const t = title.trim();
  // A document's H1 usually repeats its title: say it once.
  const path = chunk.headingPath[0]?.trim() === t ? chunk.headingPath.slice(1) : chunk.headingPath;
  const context = [t, path.join(" > ")].filter(Boolean).join("\n");
  return context ? `${context}\n\n${chunk.text}` : chunk.text;
}

export function contentHash(text: string): Buffer {
  return createHash("sha256").update(text.normalize("NFC"), "utf8").digest();
}
