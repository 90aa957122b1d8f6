// Locates the shared third-party corpus (never copied into the repo).
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export const corpusDir = path.resolve(projectRoot, process.env.BOTKIT_CORPUS_DIR ?? "../shared/corpus");
export const corpusAvailable = existsSync(corpusDir);
export const corpusSkipMessage = `shared corpus not found at ${corpusDir} (set BOTKIT_CORPUS_DIR); skipping corpus-backed tests`;

if (!corpusAvailable) console.warn(corpusSkipMessage);

export function corpusPath(...parts: string[]): string {
  return path.join(corpusDir, ...parts);
}
