// Accuracy of extractPreview on the shared link-preview corpus (184 real pages with
// reference values from metascraper's and Readability's own test suites). The floors sit
// a little below the measured values; see bench/unfurl-parse.bench.ts for the peers.
import { beforeAll, describe, expect, it } from "vitest";
import { extractPreview } from "../../src/unfurl/extract.ts";
import type { LinkPreview } from "../../src/unfurl/types.ts";
import { corpusAvailable, corpusPath } from "../support/corpus.ts";
import { loadCorpus, scoredFields, scoreSet, type CorpusCase, type CorpusSet, type Field, type FieldValues } from "./corpus-score.ts";

// Measured (hits/scored): metascraper set title 81/91, description 60/88, image 77/89,
// site_name 79/88, url 91/91, favicon 37/76; Readability set title 82/93, description
// 66/74, site_name 62/62. (Strict scoring; metascraper's references also carry its
// curly-quote/ellipsis rewriting, see bench/unfurl-parse.bench.ts for folded scores.)
const FLOORS: Record<CorpusSet, Partial<Record<Field, number>>> = {
  metascraper: { title: 0.87, description: 0.66, image: 0.84, site_name: 0.87, url: 0.98, favicon: 0.46 },
  readability: { title: 0.86, description: 0.86, site_name: 0.96 },
};

describe.skipIf(!corpusAvailable)("extractPreview on the link-preview corpus", () => {
  let cases: CorpusCase[] = [];
  const previews = new Map<string, LinkPreview>();

  beforeAll(() => {
    cases = loadCorpus(corpusPath("unfurl"));
    for (const c of cases) previews.set(`${c.set}/${c.name}`, extractPreview({ html: c.bytes, url: c.requestUrl }));
  });

  it("loads all 184 pages", () => {
    expect(cases.filter((c) => c.set === "metascraper")).toHaveLength(91);
    expect(cases.filter((c) => c.set === "readability")).toHaveLength(93);
  });

  it("produces well-formed previews for every page", () => {
    for (const [key, p] of previews) {
      expect(p.title?.length ?? 0, key).toBeLessThanOrEqual(300);
      expect(p.description?.length ?? 0, key).toBeLessThanOrEqual(1000);
      for (const text of [p.title, p.description, p.site_name, p.author]) if (text !== null && text !== undefined) expect(text.isWellFormed() && text === text.trim() && !/\s{2}/.test(text), key).toBe(true);
      for (const u of [p.url, p.image, p.favicon, p.oembed_url, p.video?.embed_url]) if (u !== null && u !== undefined) expect(/^https?:\/\//.test(u), `${key}: ${u}`).toBe(true);
    }
  });

  it("never throws on pages cut at arbitrary points (truncated bodies, broken markup)", () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (const c of cases) {
      for (let k = 0; k < 3; k++) {
        const cut = c.bytes.subarray(0, Math.floor(next() * c.bytes.length));
        const p = extractPreview({ html: cut, url: c.requestUrl, truncated: true });
        expect(p.url.startsWith("http"), c.name).toBe(true);
        if (p.title !== null) expect(p.title.isWellFormed(), c.name).toBe(true);
      }
    }
  });

  for (const set of ["metascraper", "readability"] as const) {
    it(`per-field accuracy, ${set} set`, () => {
      const outputs = new Map<string, Partial<FieldValues>>(previews);
      const scores = scoreSet(
        cases.filter((c) => c.set === set),
        outputs,
      );
      const lines = scoredFields(set).map((f) => `${f.padEnd(12)} ${(scores[f].accuracy * 100).toFixed(1).padStart(5)}%  (${scores[f].hits}/${scores[f].scored})`);
      console.log(`extractPreview accuracy, ${set} set:\n  ${lines.join("\n  ")}`);
      for (const field of scoredFields(set)) {
        const floor = FLOORS[set][field] ?? 0;
        expect(scores[field].accuracy, `${set} ${field}: misses ${scores[field].misses.map((m) => m.name).join(", ")}`).toBeGreaterThanOrEqual(floor);
      }
    });
  }
});
