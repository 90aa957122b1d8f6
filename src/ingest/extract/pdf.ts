// PDF → ExtractedDocument, using pdf-parse v2 (pdf.js) inside a killable worker thread.
//
// The heavy lifting (pdf.js parsing) happens in ./pdf.worker.ts, one worker per document, so a
// pathological file can be stopped with Worker#terminate() when the per-document timeout fires.
// The worker only returns raw per-page text plus a few facts; everything that is policy
// (failure classification, garbage / scan detection, normalisation, paragraphs) lives here.
import { Worker } from "node:worker_threads";
import { ExtractionError } from "../types.ts";
import type { ExtractedDocument, TextBlock } from "../types.ts";

export interface PdfExtractOptions {
  /** User (or owner) password for encrypted PDFs. */
  password?: string;
  /** Per-document wall-clock budget including worker start-up. Default 60 s. */
  timeoutMs?: number;
  /** Read at most this many pages (from page 1). Default: all pages. */
  maxPages?: number;
}

export const DEFAULT_PDF_TIMEOUT_MS = 60_000;

// ---------------------------------------------------------------------------------------------
// Thresholds. Measured on the shared corpus (pdf/MANIFEST.tsv, 88 files); see the test file for
// the per-file table. Numbers below are raw pdf.js output before normalisation.
// ---------------------------------------------------------------------------------------------

/**
 * A document whose pages carry fewer than this many words on average is "sparse" (words as
 * counted by countWords(): letter/digit runs, one per CJK character). Full text pages in the
 * corpus carry roughly 100-1000 words; image-only scans 0..4 (stray labels). Sparse alone does
 * not mean "scanned": tiny genuine documents exist (dummy.pdf "Dummy PDF file" = 3 words,
 * outline.pdf = a page number per page, one-line pdf.js fixtures, vertical.pdf). So a sparse
 * document is only reported as `scanned_needs_ocr` when the image probe finds a page-sized raster
 * image on its sparse pages; without one it is returned as-is if it has any text, else `empty`.
 */
export const MIN_WORDS_PER_PAGE = 5;

/** How many sparse pages the worker probes for images (each probe builds an operator list). */
export const IMAGE_PROBE_MAX_PAGES = 4;

/**
 * Time budget for the image probe, enforced by the main thread (a runaway operator list can
 * starve the worker's own timers). Past it the worker is terminated and the probe counts as
 * inconclusive: the sparse text is returned (or `empty` if there is none).
 */
export const IMAGE_PROBE_BUDGET_MS = 5_000;

/**
 * A probed page counts as an image page when raster images in the page content (annotations
 * excluded) cover at least this share of it. Corpus: bitcoin-p1, issue7229, scan-bad, issue3371
 * (300-dpi page-sized image mask) and pr6531_1 (full-page photo) ~1.0, image-test 0.56; every
 * sparse non-scan page 0.0 (signed_blank_signed's only image is its signature annotation).
 */
export const IMAGE_PAGE_COVERAGE = 0.3;

/**
 * Share of "bad" code points among bad + letter/mark/digit code points above which the text layer
 * is garbage. Bad = C0/C1 controls (except TAB/LF/CR), private-use-area characters, U+FFFD and
 * noncharacters (U+FDD0..U+FDEF, U+xFFFE/U+xFFFF).
 *
 * Corpus measurements: TAMReview 0.81 (38k controls vs 8.7k letters/digits),
 * arial_unicode_ab_cidfont 1.0 (only U+FFFF), issue16263 0.30 (PUA glyphs), 90ms_rksj_h_sample
 * 0.29 (Shift-JIS bytes leaking as C1 controls: pdf.js 5.4 treats that descriptor-less CIDFont as
 * a simple font, CMaps or not), ThuluthFeatures 0.26. Legitimate text: standard_fonts 0.12
 * (glyph-repertory tables of the Symbol/Dingbats fonts), Thai issue13211 0.07 (PUA-positioned
 * tone marks), everything else <= 0.006. 0.2 sits between the two groups.
 */
export const GARBAGE_RATIO = 0.2;

/**
 * Second garbage rule, for fonts whose broken maps yield valid but random letters (no controls):
 * share of letters sitting in whitespace-delimited tokens that mix three or more scripts (Latin,
 * Greek, Cyrillic, Arabic, CJK as one group, ...). Real text never does that: 0.000 for every
 * readable corpus file, including Japanese with embedded Latin (two groups) and the multi-script
 * issue19971. Mojibake: issue5874 0.75, ThuluthFeatures 0.61. Only judged with >= 20 letters.
 */
export const MIXED_SCRIPT_RATIO = 0.2;
export const MIXED_SCRIPT_MIN_LETTERS = 20;

/**
 * Paragraph grouping: pdf-parse's page text has one line per text line and rarely blank lines.
 * A line shorter than this fraction of the page's typical (90th-percentile) line length ends a
 * paragraph (last line of a paragraph, heading, label); full-width lines are joined.
 */
export const SHORT_LINE_RATIO = 0.75;

// ---------------------------------------------------------------------------------------------
// Worker protocol (shared with ./pdf.worker.ts through `import type`).
// ---------------------------------------------------------------------------------------------

export interface PdfWorkerRequest {
  data: Uint8Array;
  password?: string;
  maxPages?: number;
  minWordsPerPage: number;
  imageProbeMaxPages: number;
  imageCoverage: number;
}

export interface PdfImageProbe {
  pagesChecked: number;
  /** Probed pages whose raster images cover >= imageCoverage of the page. */
  pagesWithImages: number;
}

export interface PdfWorkerPage {
  num: number;
  text: string;
}

export type PdfWorkerResult =
  | {
      ok: true;
      totalPages: number;
      pages: PdfWorkerPage[];
      title?: string;
      /** The text is sparse; a { type: "probe" } message with the image probe follows. */
      probePending: boolean;
      /** Filled in by the main thread from the probe message (absent: no probe or inconclusive). */
      imageProbe?: PdfImageProbe;
      /** Which transformation of the password opened the file ("as-given", "saslprep", ...). */
      passwordVariant?: string;
      extractor: string;
    }
  | {
      ok: false;
      /** err.name of what pdf-parse / pdf.js threw (PasswordException, InvalidPDFException, ...). */
      name: string;
      message: string;
      /** pdf.js PasswordResponses: 1 = NEED_PASSWORD, 2 = INCORRECT_PASSWORD. */
      passwordCode?: number;
      /** Number of password encodings tried. */
      passwordAttempts?: number;
      /** The bytes mention the PDF 2.0 BrotliDecode filter, which this pdf.js cannot decode. */
      brotli: boolean;
    };

export type PdfWorkerMessage =
  | { type: "ready" }
  | { type: "result"; result: PdfWorkerResult }
  | { type: "probe"; probe: PdfImageProbe | undefined }
  /** The worker has finished with the document and can take the next one. */
  | { type: "idle" };

const WORKER_URL = new URL("./pdf.worker.ts", import.meta.url);

/** Soft V8 heap cap per worker; a document that needs more fails as too_large instead of taking the process down. */
const WORKER_MAX_OLD_GENERATION_MB = 1024;

/**
 * Worker threads are pooled: starting one (loading pdf.js) costs ~150-250 ms, far more than
 * extracting a typical PDF. A thread is replaced after a timeout, a crash or
 * WORKER_MAX_DOCUMENTS documents, and ends after WORKER_IDLE_MS without work.
 */
const POOL_SIZE = Math.max(1, Number(process.env.PDF_WORKERS ?? 1) || 1);
const WORKER_MAX_DOCUMENTS = 200;
const WORKER_IDLE_MS = 30_000;

interface Slot {
  worker: Worker;
  ready: boolean;
  busy: boolean;
  documents: number;
  idleTimer?: NodeJS.Timeout;
  /** Handler of the document in progress. */
  onMessage?: (message: PdfWorkerMessage) => void;
  onFailure?: (err: Error & { code?: string }) => void;
}

interface QueuedJob {
  request: PdfWorkerRequest;
  timeoutMs: number;
  resolve: (result: PdfWorkerResult) => void;
  reject: (err: Error) => void;
}

const slots = new Set<Slot>();
const queue: QueuedJob[] = [];

/** Number of PDF worker threads extracting a document right now (for metrics and tests). */
export function activePdfWorkerCount(): number {
  return [...slots].filter((s) => s.busy).length;
}

/** Number of PDF worker threads alive, busy or idle. */
export function pdfWorkerPoolSize(): number {
  return slots.size;
}

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/**
 * Extracts per-page paragraphs from a PDF. Throws ExtractionError with reason
 * needs_password | corrupt | unsupported_format | scanned_needs_ocr | garbage_text_layer |
 * empty | timeout | too_large.
 */
export async function extractPdf(data: Uint8Array, options: PdfExtractOptions = {}): Promise<ExtractedDocument> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PDF_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`timeoutMs must be a positive number, got ${timeoutMs}`);
  const maxPages = options.maxPages;
  if (maxPages !== undefined && (!Number.isInteger(maxPages) || maxPages < 1)) {
    throw new RangeError(`maxPages must be a positive integer, got ${maxPages}`);
  }

  const request: PdfWorkerRequest = {
    data,
    minWordsPerPage: MIN_WORDS_PER_PAGE,
    imageProbeMaxPages: IMAGE_PROBE_MAX_PAGES,
    imageCoverage: IMAGE_PAGE_COVERAGE,
  };
  if (options.password !== undefined) request.password = options.password;
  if (maxPages !== undefined) request.maxPages = maxPages;

  const result = await runWorker(request, timeoutMs);
  if (!result.ok) throw failureToError(result, options.password);
  return buildDocument(result);
}

// ---------------------------------------------------------------------------------------------
// Worker handling
// ---------------------------------------------------------------------------------------------

function runWorker(request: PdfWorkerRequest, timeoutMs: number): Promise<PdfWorkerResult> {
  return new Promise<PdfWorkerResult>((resolve, reject) => {
    queue.push({ request, timeoutMs, resolve, reject });
    pump();
  });
}

function spawn(): Slot {
  const worker = new Worker(WORKER_URL, { resourceLimits: { maxOldGenerationSizeMb: WORKER_MAX_OLD_GENERATION_MB } });
  worker.unref(); // an idle pool never keeps the process alive
  const slot: Slot = { worker, ready: false, busy: false, documents: 0 };
  worker.on("message", (message: PdfWorkerMessage) => {
    if (message.type === "ready") slot.ready = true;
    slot.onMessage?.(message);
  });
  worker.on("error", (err: Error & { code?: string }) => slot.onFailure?.(err));
  worker.on("exit", (code) => {
    slots.delete(slot);
    slot.onFailure?.(Object.assign(new Error(`PDF worker exited (code ${code}) without a result`), { code: "EXIT" }));
    pump();
  });
  slots.add(slot);
  return slot;
}

function retire(slot: Slot): void {
  slots.delete(slot);
  slot.onMessage = undefined;
  slot.onFailure = undefined;
  clearTimeout(slot.idleTimer);
  void slot.worker.terminate();
}

function pump(): void {
  while (queue.length > 0) {
    let slot = [...slots].find((s) => !s.busy);
    if (!slot) {
      if (slots.size >= POOL_SIZE) return;
      slot = spawn();
    }
    runOn(slot, queue.shift()!);
  }
}

function runOn(slot: Slot, job: QueuedJob): void {
  slot.busy = true;
  clearTimeout(slot.idleTimer);
  let settled = false;
  /** Text already received while waiting for the image probe. */
  let pending: Extract<PdfWorkerResult, { ok: true }> | undefined;
  let probeTimer: NodeJS.Timeout | undefined;

  const finish = (outcome: { result: PdfWorkerResult } | { error: Error }, workerUsable: boolean): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    clearTimeout(probeTimer);
    slot.onMessage = undefined;
    slot.onFailure = undefined;
    slot.documents++;
    const done = (): void => {
      if ("result" in outcome) job.resolve(outcome.result);
      else job.reject(outcome.error);
      pump();
    };
    if (!workerUsable || slot.documents >= WORKER_MAX_DOCUMENTS) {
      // "Rejected with timeout" also means "nothing is still parsing in the background".
      slots.delete(slot);
      slot.worker.terminate().then(done, done);
      return;
    }
    slot.busy = false;
    slot.idleTimer = setTimeout(() => retire(slot), WORKER_IDLE_MS).unref();
    done();
  };
  /** Anything going wrong after the text arrived only costs us the (optional) image probe. */
  const failOr = (error: Error): void => finish(pending !== undefined ? { result: pending } : { error }, false);

  const timer = setTimeout(
    () => failOr(new ExtractionError("timeout", `PDF extraction did not finish within ${job.timeoutMs} ms; worker terminated`)),
    Math.min(job.timeoutMs, 2 ** 31 - 1), // setTimeout's maximum; larger values would fire at once
  );

  let result: PdfWorkerResult | undefined;
  slot.onMessage = (message) => {
    if (message.type === "result") {
      result = message.result;
      if (message.result.ok && message.result.probePending) {
        pending = message.result;
        // The probe can be unbounded on hostile files: past its budget, keep the text and drop the thread.
        probeTimer = setTimeout(() => finish({ result: pending! }, false), IMAGE_PROBE_BUDGET_MS);
      }
    } else if (message.type === "probe" && pending !== undefined) {
      result = message.probe === undefined ? pending : { ...pending, imageProbe: message.probe };
    } else if (message.type === "idle" && result !== undefined) {
      finish({ result }, true);
    }
  };
  slot.onFailure = (err) => {
    if (err.code === "ERR_WORKER_OUT_OF_MEMORY") {
      failOr(new ExtractionError("too_large", `PDF needs more than ${WORKER_MAX_OLD_GENERATION_MB} MB of heap to parse`, { cause: err }));
    } else if (!slot.ready) {
      // The worker could not even load pdf-parse: an installation problem, not the document's fault.
      finish({ error: new Error(`PDF worker failed to start: ${err.message}`, { cause: err }) }, false);
    } else if (err.code === "EXIT") {
      failOr(new ExtractionError("corrupt", err.message));
    } else {
      failOr(new ExtractionError("corrupt", `PDF parser crashed: ${err.name}: ${err.message}`, { cause: err }));
    }
  };
  slot.worker.postMessage({ type: "job", request: job.request });
}

function failureToError(failure: Extract<PdfWorkerResult, { ok: false }>, password: string | undefined): ExtractionError {
  const detail = `${failure.name}: ${failure.message}`;
  if (failure.name === "PasswordException") {
    if (password === undefined || password === "") {
      return new ExtractionError("needs_password", `PDF is encrypted and needs a password, but none was given (${detail})`);
    }
    const tried = failure.passwordAttempts !== undefined && failure.passwordAttempts > 1 ? ` (tried ${failure.passwordAttempts} encodings of it)` : "";
    return new ExtractionError("needs_password", `PDF is encrypted and the password given is wrong${tried} (${detail})`);
  }
  if (failure.brotli) {
    return new ExtractionError(
      "unsupported_format",
      `PDF uses the PDF 2.0 BrotliDecode filter, which the bundled pdf.js cannot decode (${detail})`,
    );
  }
  // InvalidPDFException, FormatError, UnknownErrorException and anything else pdf.js threw while
  // reading this file: the same bytes will fail the same way.
  return new ExtractionError("corrupt", `PDF could not be parsed (${detail})`);
}

function buildDocument(result: Extract<PdfWorkerResult, { ok: true }>): ExtractedDocument {
  const pagesRead = result.pages.length;
  const stats = textLayerStats(result.pages.map((p) => p.text).join("\n"));
  const wordsPerPage = pagesRead === 0 ? 0 : stats.words / pagesRead;
  const garbageRatio = stats.bad + stats.good === 0 ? 0 : stats.bad / (stats.bad + stats.good);

  const blocks: TextBlock[] = [];
  for (const page of result.pages) {
    for (const text of splitParagraphs(normalizePdfText(page.text))) {
      blocks.push({ kind: "paragraph", text, page: page.num });
    }
  }

  const facts = `${pagesRead} page(s), ${stats.words} words`;
  if (wordsPerPage < MIN_WORDS_PER_PAGE && result.imageProbe !== undefined && result.imageProbe.pagesWithImages > 0) {
    throw new ExtractionError(
      "scanned_needs_ocr",
      `PDF looks scanned: ${wordsPerPage.toFixed(1)} words/page and page-sized images on ${result.imageProbe.pagesWithImages}/${result.imageProbe.pagesChecked} probed page(s) (${facts})`,
    );
  }
  const garbage = garbageVerdict(stats);
  if (garbage?.rule === "unmapped_glyphs") {
    throw new ExtractionError(
      "garbage_text_layer",
      `PDF text layer is unreadable: ${stats.bad} control/private-use/replacement characters vs ${stats.good} letters and digits, ratio ${garbage.ratio.toFixed(2)} (${facts})`,
    );
  }
  if (garbage?.rule === "mixed_scripts") {
    throw new ExtractionError(
      "garbage_text_layer",
      `PDF text layer is mojibake: ${stats.mixedScriptLetters} of ${stats.letters} letters are in words mixing 3+ scripts, ratio ${garbage.ratio.toFixed(2)} (${facts})`,
    );
  }
  if (blocks.length === 0) {
    throw new ExtractionError("empty", `PDF has no extractable text (${facts})`);
  }

  const doc: ExtractedDocument = {
    blocks,
    meta: {
      extractor: result.extractor,
      pageCount: result.totalPages,
      pagesExtracted: pagesRead,
      truncated: pagesRead < result.totalPages,
      words: stats.words,
      garbageRatio: Math.round(garbageRatio * 1000) / 1000,
      ...(result.passwordVariant !== undefined ? { encrypted: true, passwordVariant: result.passwordVariant } : {}),
    },
  };
  const title = cleanTitle(result.title);
  if (title !== undefined) doc.title = title;
  return doc;
}

// ---------------------------------------------------------------------------------------------
// Text helpers (pure; exported for tests and for the worker's sparse-page check)
// ---------------------------------------------------------------------------------------------

// One "word" per Han/Kana/Hangul character (those scripts do not separate words with spaces),
// otherwise one per run of letters/marks/digits.
const WORD_RE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]|[\p{L}\p{M}\p{N}]+/gu;

export function countWords(text: string): number {
  let n = 0;
  for (const _ of text.matchAll(WORD_RE)) n++;
  return n;
}

function isBadCodePoint(cp: number): boolean {
  if (cp < 0x20) return cp !== 0x09 && cp !== 0x0a && cp !== 0x0d; // C0 controls
  if (cp >= 0x7f && cp <= 0x9f) return true; // DEL + C1 controls
  if (cp >= 0xe000 && cp <= 0xf8ff) return true; // BMP private use area
  if (cp >= 0xf0000) return true; // supplementary PUA-A/B (and U+10FFFE/F)
  if (cp >= 0xfdd0 && cp <= 0xfdef) return true; // noncharacters
  if ((cp & 0xfffe) === 0xfffe) return true; // U+xFFFE / U+xFFFF noncharacters
  return cp === 0xfffd; // replacement character
}

const GOOD_RE = /[\p{L}\p{M}\p{N}]/u;

// Script groups for the mojibake check. Han, Kana, Hangul and Bopomofo form one group because
// CJK text legitimately mixes them inside one space-free run; Common/Inherited never count.
const SCRIPT_GROUPS: Array<[string, RegExp]> = [
  ["Latin", /\p{Script=Latin}/u],
  ["CJK", /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Bopomofo}]/u],
  ["Cyrillic", /\p{Script=Cyrillic}/u],
  ["Greek", /\p{Script=Greek}/u],
  ["Arabic", /\p{Script=Arabic}/u],
  ["Hebrew", /\p{Script=Hebrew}/u],
  ["Devanagari", /\p{Script=Devanagari}/u],
  ["Thai", /\p{Script=Thai}/u],
  ["Armenian", /\p{Script=Armenian}/u],
  ["Georgian", /\p{Script=Georgian}/u],
];
const COMMON_OR_INHERITED = /[\p{Script=Common}\p{Script=Inherited}]/u;
const LETTER = /\p{L}/u;

function scriptGroup(ch: string): string | undefined {
  if (COMMON_OR_INHERITED.test(ch)) return undefined;
  for (const [name, re] of SCRIPT_GROUPS) if (re.test(ch)) return name;
  return "Other";
}

export interface TextLayerStats {
  /** C0/C1 controls (not TAB/LF/CR), private use, U+FFFD, noncharacters. */
  bad: number;
  /** Letters, marks and digits. */
  good: number;
  words: number;
  letters: number;
  /** Letters inside whitespace-delimited tokens that mix 3+ script groups (mojibake). */
  mixedScriptLetters: number;
}

/** Counts for garbage detection on raw (un-normalised) pdf.js text. */
export function textLayerStats(text: string): TextLayerStats {
  let bad = 0;
  let good = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (isBadCodePoint(cp)) bad++;
    else if (cp > 0x2f && GOOD_RE.test(ch)) good++;
  }
  let letters = 0;
  let mixedScriptLetters = 0;
  for (const token of text.normalize("NFKC").split(/\s+/)) {
    let tokenLetters = 0;
    const groups = new Set<string>();
    for (const ch of token) {
      if (!LETTER.test(ch)) continue;
      tokenLetters++;
      const group = (ch.codePointAt(0) ?? 0) < 0x80 ? "Latin" : scriptGroup(ch);
      if (group !== undefined) groups.add(group);
    }
    letters += tokenLetters;
    if (groups.size >= 3) mixedScriptLetters += tokenLetters;
  }
  return { bad, good, words: countWords(text), letters, mixedScriptLetters };
}

/** Which garbage rule (if any) a text layer trips, with the measured ratio. */
export function garbageVerdict(stats: TextLayerStats): { rule: "unmapped_glyphs" | "mixed_scripts"; ratio: number } | undefined {
  const badRatio = stats.bad + stats.good === 0 ? 0 : stats.bad / (stats.bad + stats.good);
  if (badRatio > GARBAGE_RATIO) return { rule: "unmapped_glyphs", ratio: badRatio };
  const mixedRatio = stats.letters === 0 ? 0 : stats.mixedScriptLetters / stats.letters;
  if (stats.letters >= MIXED_SCRIPT_MIN_LETTERS && mixedRatio > MIXED_SCRIPT_RATIO) return { rule: "mixed_scripts", ratio: mixedRatio };
  return undefined;
}

/**
 * NFKC, line-ending and whitespace normalisation, control characters dropped. Keeps one line per
 * text line (no blank lines); paragraphs and hyphenation are handled by splitParagraphs.
 */
export function normalizePdfText(raw: string): string {
  const text = raw
    .normalize("NFKC")
    .replace(/\r\n?|[\v\f\u0085\u2028\u2029]/g, "\n")
    // C0/C1 controls (except TAB/LF), noncharacters U+FFFE/U+FFFF, soft hyphen, ZWSP, BOM.
    // eslint-disable-next-line no-control-regex -- removing control characters is the point
    .replace(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u00AD\u200B\uFEFF\uFFFE\uFFFF]/g, "");
  const lines: string[] = [];
  for (const line of text.split("\n")) {
    const squeezed = line
      .replace(/([._])\1{3,}/g, "$1$1$1") // dot leaders / form blanks: "Intro......12" → "Intro...12"
      .replace(/[^\S\n]+/g, " ")
      .trim();
    lines.push(squeezed);
  }
  // Keep single blank lines as paragraph separators, drop leading/trailing/duplicate blanks.
  return lines.join("\n").replace(/\n{3,}/g, "\n\n").trim();
}

const CJK_CHAR = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3000-\u303f\uff00-\uffef]/u;
const HYPHENATED_END = /\p{L}[-\u2010]$/u;
const LOWER_START = /^\p{Ll}/u;

/** Joins a paragraph's lines: end-of-line hyphenation removed, no space between CJK lines. */
function joinLines(lines: string[]): string {
  let out = "";
  for (const line of lines) {
    if (out === "") {
      out = line;
    } else if (HYPHENATED_END.test(out) && LOWER_START.test(line)) {
      out = out.slice(0, -1) + line; // "Ja-" + "vaScript" → "JavaScript"
    } else if (CJK_CHAR.test(out.at(-1) ?? "") && CJK_CHAR.test(line[0] ?? "")) {
      out += line;
    } else {
      out += " " + line;
    }
  }
  return out;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[idx] ?? 0;
}

/**
 * Splits one page's normalised text into paragraphs: blank lines always separate; otherwise a
 * line clearly shorter than the page's typical line ends a paragraph (unless it ends in a
 * hyphen that continues on the next line).
 */
export function splitParagraphs(pageText: string): string[] {
  const paragraphs: string[] = [];
  for (const section of pageText.split(/\n{2,}/)) {
    const lines = section.split("\n").filter((l) => l !== "");
    if (lines.length === 0) continue;
    const lengths = lines.map((l) => [...l].length).sort((a, b) => a - b);
    const shortBelow = percentile(lengths, 0.9) * SHORT_LINE_RATIO;
    let current: string[] = [];
    for (const line of lines) {
      current.push(line);
      const continues = HYPHENATED_END.test(line);
      if (!continues && [...line].length < shortBelow) {
        paragraphs.push(joinLines(current));
        current = [];
      }
    }
    if (current.length > 0) paragraphs.push(joinLines(current));
  }
  return paragraphs.filter((p) => p.length > 0);
}

// Info-dictionary titles are often authoring leftovers: "Untitled", "Microsoft Word - x.docx",
// file names ("RPI00021.sbk", "IBM-PDFs.graffle"), or ids ("sag-39-3-4-0902-21:sag-0").
const JUNK_TITLE = /^(untitled|unknown|title|document\d*|microsoft \w+ - .*)$|^\S+\.[a-z][a-z0-9]{1,7}$/i;
const ID_LIKE = /^\S*[\d_:]\S*$/;

function cleanTitle(title: string | undefined): string | undefined {
  if (title === undefined) return undefined;
  const cleaned = normalizePdfText(title).replace(/\s+/g, " ").trim();
  if (cleaned === "" || JUNK_TITLE.test(cleaned) || ID_LIKE.test(cleaned) || !/\p{L}/u.test(cleaned)) return undefined;
  return cleaned;
}
