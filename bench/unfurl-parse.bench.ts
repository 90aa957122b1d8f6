// Link-preview parsing benchmark: src/unfurl/extract.ts vs unfurl.js, open-graph-scraper
// and metascraper, parse only and offline, on the 184 pages of the link-preview corpus
// (../shared/corpus/unfurl, read-only). Reports CPU ms/page and per-field accuracy of
// every library against the same references.
//
// Run directly (`node bench/unfurl-parse.bench.ts [rounds]`) to print tables, or import
// `benchUnfurlParse`.
//
// How each library gets the page (no network anywhere):
//   ours          extractPreview({ html: bytes, url }) — includes charset sniffing and decoding;
//                 "ours (string)" passes the already decoded text.
//   unfurl.js     unfurl(url, { fetch, oembed: false }) with a custom `fetch` (a documented
//                 option) that resolves to an in-memory response over the page bytes, so
//                 unfurl.js runs its own decoding + htmlparser2 pass (stopping at </head>
//                 when a title was seen); the fake response costs microseconds.
//   ogs           ogs({ html }) — cheerio load + Open Graph/Twitter/fallback rules.
//   metascraper   createMetascraper([title, description, image, url, publisher, logo])({ html, url }).
//
// Field mapping for peers (first non-empty):
//   unfurl.js     title: open_graph.title, twitter_card.title, title; description: open_graph,
//                 twitter_card, description; image: open_graph.images[0].secure_url/url,
//                 twitter_card.images[0].url; site_name: open_graph.site_name; url:
//                 open_graph.url, canonical_url, request URL; favicon: favicon.
//   ogs           title: ogTitle, twitterTitle; description: ogDescription, twitterDescription;
//                 image: ogImage[0].url, twitterImage[0].url; site_name: ogSiteName; url:
//                 ogUrl, request URL; favicon: favicon.
//   metascraper   title, description, image, publisher → site_name, url, logo → favicon.
// Relative URLs of peers are resolved against the request URL by the scorer, as ours.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import createMetascraper from "metascraper";
import metascraperDescription from "metascraper-description";
import metascraperImage from "metascraper-image";
import metascraperLogo from "metascraper-logo";
import metascraperPublisher from "metascraper-publisher";
import metascraperTitle from "metascraper-title";
import metascraperUrl from "metascraper-url";
import ogs from "open-graph-scraper";
import { unfurl } from "unfurl.js";
import { extractPreview } from "../src/unfurl/extract.ts";
import { FIELDS, loadCorpus, scoreSet, scoredFields, SETS, type CorpusCase, type CorpusSet, type Field, type FieldValues } from "../test/unfurl/corpus-score.ts";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const corpusRoot = path.resolve(projectRoot, process.env.BOTKIT_CORPUS_DIR ?? "../shared/corpus", "unfurl");

export const LIBRARIES = ["ours", "ours (string)", "unfurl.js", "open-graph-scraper", "metascraper"] as const;
export type Library = (typeof LIBRARIES)[number];

export interface SpeedRow {
  library: Library;
  /** Median over all (page, round) samples of CPU ms for one page. */
  medianCpuMs: number;
  /** Total CPU ms / (pages × rounds). */
  meanCpuMs: number;
  /** Wall-clock ms/page, mean. */
  meanWallMs: number;
  /** This library's mean CPU ms/page divided by ours (> 1: ours is faster). */
  ratioToOurs: number;
  rounds: number;
}

export interface AccuracyCell {
  hits: number;
  scored: number;
  accuracy: number;
}

export interface Report {
  pages: number;
  pagesPerSet: Record<CorpusSet, number>;
  speed: SpeedRow[];
  /** Strict scoring (the corpus README's): exact text after whitespace normalisation. */
  accuracy: Record<Library, Record<CorpusSet, Partial<Record<Field, AccuracyCell>>>>;
  /** Secondary scoring: text compared after folding curly quotes / ellipsis / NBSP (see foldTypography). */
  accuracyFolded: Record<Library, Record<CorpusSet, Partial<Record<Field, AccuracyCell>>>>;
  /** Strict scoring: fields where ours is not strictly above every peer, and speed where a peer is faster. */
  misses: string[];
  /** The same comparison under folded scoring. */
  missesFolded: string[];
}

type Extractor = (c: CorpusCase) => Promise<Partial<FieldValues>> | Partial<FieldValues>;

const str = (v: unknown): string | null => (typeof v === "string" && v.trim() !== "" ? v : null);

function fakeResponse(bytes: Uint8Array): { status: number; headers: { get(name: string): string | null }; arrayBuffer(): Promise<ArrayBuffer> } {
  return {
    status: 200,
    headers: { get: (name: string) => (name.toLowerCase() === "content-type" ? "text/html" : null) },
    arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
  };
}

function extractors(): Record<Library, Extractor> {
  const metascraper = createMetascraper([metascraperTitle(), metascraperDescription(), metascraperImage(), metascraperUrl(), metascraperPublisher(), metascraperLogo()]);
  return {
    ours: (c) => extractPreview({ html: c.bytes, url: c.requestUrl }),
    "ours (string)": (c) => extractPreview({ html: c.html, url: c.requestUrl }),
    "unfurl.js": async (c) => {
      const r = await unfurl(c.requestUrl, { oembed: false, fetch: async () => fakeResponse(c.bytes) });
      const og = r.open_graph as { title?: string; description?: string; site_name?: string; url?: string; images?: { url?: string; secure_url?: string }[] } | undefined;
      const tw = r.twitter_card as { title?: string; description?: string; images?: { url?: string }[] } | undefined;
      return {
        title: str(og?.title) ?? str(tw?.title) ?? str(r.title),
        description: str(og?.description) ?? str(tw?.description) ?? str(r.description),
        image: str(og?.images?.[0]?.secure_url) ?? str(og?.images?.[0]?.url) ?? str(tw?.images?.[0]?.url),
        site_name: str(og?.site_name),
        url: str(og?.url) ?? str(r.canonical_url) ?? c.requestUrl,
        favicon: str(r.favicon),
      };
    },
    "open-graph-scraper": async (c) => {
      const { result } = await ogs({ html: c.html });
      const r = result as Record<string, unknown>;
      const first = (v: unknown): string | null => (Array.isArray(v) ? str((v[0] as { url?: unknown } | undefined)?.url) : null);
      return {
        title: str(r.ogTitle) ?? str(r.twitterTitle),
        description: str(r.ogDescription) ?? str(r.twitterDescription),
        image: first(r.ogImage) ?? first(r.twitterImage),
        site_name: str(r.ogSiteName),
        url: str(r.ogUrl) ?? c.requestUrl,
        favicon: str(r.favicon),
      };
    },
    metascraper: async (c) => {
      const m = await metascraper({ html: c.html, url: c.requestUrl, validateUrl: false });
      return { title: str(m.title), description: str(m.description), image: str(m.image), site_name: str(m.publisher), url: str(m.url), favicon: str(m.logo) };
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function cpuMs(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

export interface BenchOptions {
  /** Measured rounds for ours and unfurl.js (default 7); the cheerio-based peers get max(2, rounds/2). */
  rounds?: number;
  libraries?: readonly Library[];
}

export async function benchUnfurlParse(options: BenchOptions = {}): Promise<Report> {
  if (!existsSync(corpusRoot)) throw new Error(`link-preview corpus not found at ${corpusRoot} (set BOTKIT_CORPUS_DIR)`);
  const cases = loadCorpus(corpusRoot);
  const libs = options.libraries ?? LIBRARIES;
  const fastRounds = options.rounds ?? 7;
  const all = extractors();
  const accuracy = {} as Report["accuracy"];
  const accuracyFolded = {} as Report["accuracyFolded"];
  const speed: SpeedRow[] = [];

  for (const lib of libs) {
    const run = all[lib];
    const rounds = lib.startsWith("ours") || lib === "unfurl.js" ? fastRounds : Math.max(2, Math.ceil(fastRounds / 2));
    // Warm-up round (JIT, lazy requires); its outputs are the ones scored.
    const outputs = new Map<string, Partial<FieldValues>>();
    for (const c of cases) outputs.set(`${c.set}/${c.name}`, await run(c));
    const samples: number[] = [];
    let totalCpu = 0;
    let totalWall = 0;
    for (let r = 0; r < rounds; r++) {
      for (const c of cases) {
        const wall = performance.now();
        const cpu = process.cpuUsage();
        await run(c);
        const ms = cpuMs(cpu);
        totalWall += performance.now() - wall;
        totalCpu += ms;
        samples.push(ms);
      }
    }
    speed.push({ library: lib, medianCpuMs: median(samples), meanCpuMs: totalCpu / samples.length, meanWallMs: totalWall / samples.length, ratioToOurs: Number.NaN, rounds });
    for (const [target, foldTypography] of [
      [accuracy, false],
      [accuracyFolded, true],
    ] as const) {
      target[lib] = {} as Record<CorpusSet, Partial<Record<Field, AccuracyCell>>>;
      for (const set of SETS) {
        const scores = scoreSet(
          cases.filter((c) => c.set === set),
          outputs,
          { foldTypography },
        );
        target[lib][set] = Object.fromEntries(scoredFields(set).map((f) => [f, { hits: scores[f].hits, scored: scores[f].scored, accuracy: scores[f].accuracy }]));
      }
    }
  }

  const ours = speed.find((s) => s.library === "ours");
  for (const row of speed) row.ratioToOurs = ours === undefined ? Number.NaN : row.meanCpuMs / ours.meanCpuMs;

  const peers = libs.filter((l) => !l.startsWith("ours"));
  const compare = (table: Report["accuracy"]): string[] => {
    const out: string[] = [];
    if (table.ours === undefined) return out;
    for (const set of SETS) {
      for (const field of scoredFields(set)) {
        const mine = table.ours[set][field]?.accuracy ?? 0;
        for (const peer of peers) {
          const theirs = table[peer]?.[set][field]?.accuracy ?? 0;
          if (theirs >= mine) out.push(`${set} ${field}: ${peer} ${(theirs * 100).toFixed(1)}% ${theirs === mine ? "=" : ">"} ours ${(mine * 100).toFixed(1)}%`);
        }
      }
    }
    return out;
  };
  const misses = compare(accuracy);
  const missesFolded = compare(accuracyFolded);
  if (ours !== undefined) for (const row of speed) if (!row.library.startsWith("ours") && row.meanCpuMs < ours.meanCpuMs) misses.push(`speed: ${row.library} ${row.meanCpuMs.toFixed(2)} ms/page < ours ${ours.meanCpuMs.toFixed(2)} ms/page`);

  return {
    pages: cases.length,
    pagesPerSet: { metascraper: cases.filter((c) => c.set === "metascraper").length, readability: cases.filter((c) => c.set === "readability").length },
    speed,
    accuracy,
    accuracyFolded,
    misses,
    missesFolded,
  };
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(" | ")} |`;
  const sep = `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`;
  return [line(headers), sep, ...rows.map(line)].join("\n");
}

export function renderReport(report: Report): string {
  const out: string[] = [];
  out.push(`Link-preview parse benchmark: ${report.pages} pages (metascraper ${report.pagesPerSet.metascraper}, readability ${report.pagesPerSet.readability}), offline, parse only`);
  out.push("");
  out.push(
    table(
      ["library", "CPU ms/page median", "CPU ms/page mean", "wall ms/page mean", "peer/ours (mean CPU)", "rounds"],
      report.speed.map((s) => [s.library, s.medianCpuMs.toFixed(2), s.meanCpuMs.toFixed(2), s.meanWallMs.toFixed(2), `${s.ratioToOurs.toFixed(2)}x`, String(s.rounds)]),
    ),
  );
  const accuracyTables = (title: string, acc: Report["accuracy"]) => {
    for (const set of SETS) {
      out.push("");
      out.push(`${title}, ${set} set (hits/scored):`);
      const libs = Object.keys(acc) as Library[];
      out.push(
        table(
          ["field", ...libs],
          scoredFields(set).map((f) => [
            f,
            ...libs.map((l) => {
              const cell = acc[l][set][f];
              return cell === undefined ? "-" : `${(cell.accuracy * 100).toFixed(1)}% (${cell.hits}/${cell.scored})`;
            }),
          ]),
        ),
      );
    }
  };
  accuracyTables("Accuracy, strict (exact after whitespace normalisation; URLs resolved)", report.accuracy);
  accuracyTables("Accuracy, typography folded (curly quotes/ellipsis/NBSP compared as ASCII; URLs as strict)", report.accuracyFolded);
  out.push("");
  out.push(report.misses.length === 0 ? "Targets (strict): met (fastest, and above every peer on every field)." : `Targets missed (strict):\n  ${report.misses.join("\n  ")}`);
  out.push(report.missesFolded.length === 0 ? "Targets (folded): met." : `Targets missed (folded):\n  ${report.missesFolded.join("\n  ")}`);
  return out.join("\n");
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const rounds = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
  const report = await benchUnfurlParse(rounds === undefined ? {} : { rounds });
  console.log(renderReport(report));
}

export { FIELDS };
