// Loads the link-preview corpus (../shared/corpus/unfurl, read-only) and scores preview
// fields against its references. Shared by test/unfurl/corpus.test.ts and
// bench/unfurl-parse.bench.ts.
//
// Scoring (as in the corpus README): a field is scored only when the reference is not
// null; text fields match when equal after trimming and collapsing whitespace runs;
// image/url/favicon match when both resolve (against the case's request_url) to the same
// absolute URL. A missing value against a reference counts as a miss.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

export const FIELDS = ["title", "description", "image", "site_name", "url", "favicon"] as const;
export type Field = (typeof FIELDS)[number];
export type FieldValues = Record<Field, string | null>;
export const SETS = ["metascraper", "readability"] as const;
export type CorpusSet = (typeof SETS)[number];

export interface CorpusCase {
  set: CorpusSet;
  name: string;
  requestUrl: string;
  bytes: Uint8Array;
  /** The page as text (every corpus file is stored as UTF-8). */
  html: string;
  expected: FieldValues;
}

const URL_FIELDS: ReadonlySet<Field> = new Set(["image", "url", "favicon"]);

export function loadCorpus(root: string): CorpusCase[] {
  const cases: CorpusCase[] = [];
  for (const set of SETS) {
    const dir = path.join(root, set);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const caseDir = path.join(dir, name);
      const expectedFile = path.join(caseDir, "expected.json");
      if (!existsSync(expectedFile)) continue;
      const meta = JSON.parse(readFileSync(expectedFile, "utf8")) as { request_url: string; expected: Partial<FieldValues> };
      const bytes = new Uint8Array(readFileSync(path.join(caseDir, "input.html")));
      const expected = Object.fromEntries(FIELDS.map((f) => [f, meta.expected[f] ?? null])) as FieldValues;
      cases.push({ set, name, requestUrl: meta.request_url, bytes, html: Buffer.from(bytes).toString("utf8"), expected });
    }
  }
  return cases;
}

export function normaliseText(value: string): string {
  return value.replace(/\s+/g, " ").trim();
}

function normaliseUrl(value: string, base: string): string {
  const cleaned = normaliseText(value);
  return URL.parse(cleaned, base)?.href ?? cleaned;
}

/**
 * Typographic variants folded to ASCII: curly quotes, primes, ellipsis, NBSP. metascraper
 * rewrites straight quotes into curly ones and "..." into "…" in its output, so its own
 * references carry them where the pages do not; this variant shows the gap without that.
 */
export function foldTypography(value: string): string {
  return value
    .replace(/[‘’‚‛′]/g, "'")
    .replace(/[“”„‟″]/g, '"')
    .replace(/…/g, "...")
    .replace(/\u00a0/g, " ");
}

export interface MatchOptions {
  /** Compare text fields after foldTypography (secondary score; the primary one is strict). */
  foldTypography?: boolean;
}

/** null when the reference is null (not scored), else whether `actual` matches. */
export function fieldMatches(field: Field, expected: string | null, actual: string | null | undefined, requestUrl: string, options: MatchOptions = {}): boolean | null {
  if (expected === null) return null;
  if (actual === null || actual === undefined || normaliseText(actual) === "") return false;
  if (URL_FIELDS.has(field)) return normaliseUrl(expected, requestUrl) === normaliseUrl(actual, requestUrl);
  if (options.foldTypography === true) return normaliseText(foldTypography(expected)) === normaliseText(foldTypography(actual));
  return normaliseText(expected) === normaliseText(actual);
}

export interface FieldScore {
  hits: number;
  scored: number;
  /** hits / scored (NaN when nothing is scored). */
  accuracy: number;
  misses: { name: string; expected: string; actual: string | null }[];
}

export type SetScores = Record<Field, FieldScore>;

/** Per-field scores for one extractor over the cases of one set. */
export function scoreSet(cases: readonly CorpusCase[], outputs: ReadonlyMap<string, Partial<FieldValues>>, options: MatchOptions = {}): SetScores {
  const empty = (): FieldScore => ({ hits: 0, scored: 0, accuracy: Number.NaN, misses: [] });
  const scores: SetScores = { title: empty(), description: empty(), image: empty(), site_name: empty(), url: empty(), favicon: empty() };
  for (const c of cases) {
    const out = outputs.get(`${c.set}/${c.name}`) ?? {};
    for (const field of FIELDS) {
      const ok = fieldMatches(field, c.expected[field], out[field], c.requestUrl, options);
      if (ok === null) continue;
      const s = scores[field];
      s.scored++;
      if (ok) s.hits++;
      else s.misses.push({ name: c.name, expected: c.expected[field] as string, actual: out[field] ?? null });
    }
  }
  for (const field of FIELDS) scores[field].accuracy = scores[field].hits / scores[field].scored;
  return scores;
}

/** Fields scored for a set: Readability references carry no page URL, so its image/url/favicon are never scored. */
export function scoredFields(set: CorpusSet): readonly Field[] {
  return set === "readability" ? ["title", "description", "site_name"] : FIELDS;
}
