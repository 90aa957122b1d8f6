// Worker thread for ./pdf.ts: runs pdf-parse v2 (pdf.js) on documents, one at a time, and
// posts the raw per-page text back. Started with `new Worker(new URL("./pdf.worker.ts", import.meta.url))`;
// Node 24 loads it directly (type stripping), so only erasable TypeScript here.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parentPort } from "node:worker_threads";
import { PDFParse } from "pdf-parse";
import { countWords } from "./pdf.ts";
import type { PdfImageProbe, PdfWorkerMessage, PdfWorkerPage, PdfWorkerRequest, PdfWorkerResult } from "./pdf.ts";

// --- Locate the pdfjs-dist copy that pdf-parse itself imports (CMaps, standard fonts, wasm). ----

const pdfParseEntry = fileURLToPath(import.meta.resolve("pdf-parse"));
const requireFromPdfParse = createRequire(pdfParseEntry);
const pdfjsDir = path.dirname(requireFromPdfParse.resolve("pdfjs-dist/package.json"));
// pdf.js concatenates these with file names and requires a trailing "/" (also on Windows).
const asDirUrl = (dir: string): string => `${path.join(pdfjsDir, dir).replaceAll("\\", "/")}/`;
const CMAP_URL = asDirUrl("cmaps");
const STANDARD_FONT_DATA_URL = asDirUrl("standard_fonts");
const WASM_URL = asDirUrl("wasm");

interface PdfjsModule {
  OPS: Record<string, number>;
  AnnotationMode: Record<string, number>;
  version: string;
}
// Same file pdf-parse imports, so this is the already-loaded module instance.
const pdfjs = (await import(pathToFileURL(requireFromPdfParse.resolve("pdfjs-dist/legacy/build/pdf.mjs")).href)) as PdfjsModule;

function packageVersion(fromFile: string, name: string): string {
  let dir = path.dirname(fromFile);
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === name) return pkg.version ?? "?";
    } catch {
      // no package.json at this level
    }
    const parent = path.dirname(dir);
    if (parent === dir) return "?";
    dir = parent;
  }
}
const EXTRACTOR = `pdf-parse@${packageVersion(pdfParseEntry, "pdf-parse")} (pdf.js ${pdfjs.version})`;

// --- Image probe: does a sparse page carry a page-sized raster image (a scan)? -------------------

interface PdfPageLike {
  view: number[];
  getOperatorList(params?: { annotationMode?: number }): Promise<{ fnArray: ArrayLike<number>; argsArray: ArrayLike<unknown> }>;
  cleanup(): unknown;
}
interface PdfDocumentLike {
  getPage(pageNumber: number): Promise<PdfPageLike>;
}

type Matrix = [number, number, number, number, number, number];
const IDENTITY: Matrix = [1, 0, 0, 1, 0, 0];

function multiply(m: Matrix, n: ArrayLike<number>): Matrix {
  const [a, b, c, d, e, f] = [n[0] ?? 1, n[1] ?? 0, n[2] ?? 0, n[3] ?? 1, n[4] ?? 0, n[5] ?? 0];
  return [a * m[0] + b * m[2], a * m[1] + b * m[3], c * m[0] + d * m[2], c * m[1] + d * m[3], e * m[0] + f * m[2] + m[4], e * m[1] + f * m[3] + m[5]];
}

const op = (name: string): number => pdfjs.OPS[name] ?? -1;
const OP = {
  save: op("save"),
  restore: op("restore"),
  transform: op("transform"),
  formBegin: op("paintFormXObjectBegin"),
  formEnd: op("paintFormXObjectEnd"),
};
/** Operators that paint one raster image into the unit square of the current transformation matrix. */
const SINGLE_IMAGE_OPS = new Set(["paintImageXObject", "paintInlineImageXObject", "paintImageMaskXObject", "paintSolidColorImageMask"].map(op));
/** Grouped/repeated image operators (pdf.js optimiser output); counted as images, area unknown. */
const MULTI_IMAGE_OPS = new Set(
  ["paintInlineImageXObjectGroup", "paintImageXObjectRepeat", "paintImageMaskXObjectGroup", "paintImageMaskXObjectRepeat"].map(op),
);

/**
 * Fraction of the page area covered by raster images (sum over images, capped at 1), tracking
 * the CTM through save/restore/cm and form XObjects. Only page content counts: annotation
 * appearances (e.g. a signature image on a blank page) are excluded.
 */
async function imageCoverage(page: PdfPageLike, annotationModeDisable: number): Promise<number> {
  const { fnArray, argsArray } = await page.getOperatorList({ annotationMode: annotationModeDisable });
  const [x1 = 0, y1 = 0, x2 = 0, y2 = 0] = page.view;
  const pageArea = Math.abs((x2 - x1) * (y2 - y1)) || 1;
  let ctm: Matrix = IDENTITY;
  const stack: Matrix[] = [];
  let covered = 0;
  for (let i = 0; i < fnArray.length; i++) {
    const fn = fnArray[i];
    const args = argsArray[i] as unknown[] | null | undefined;
    if (fn === OP.save) stack.push(ctm);
    else if (fn === OP.restore || fn === OP.formEnd) ctm = stack.pop() ?? IDENTITY;
    else if (fn === OP.transform && args) ctm = multiply(ctm, args as number[]);
    else if (fn === OP.formBegin) {
      stack.push(ctm);
      const matrix = args?.[0];
      if (Array.isArray(matrix) && matrix.length === 6) ctm = multiply(ctm, matrix as number[]);
    } else if (fn !== undefined && SINGLE_IMAGE_OPS.has(fn)) {
      covered += Math.abs(ctm[0] * ctm[3] - ctm[1] * ctm[2]);
    } else if (fn !== undefined && MULTI_IMAGE_OPS.has(fn)) {
      covered += pageArea; // many images at once: assume a scan-like page
    }
  }
  return Math.min(1, covered / pageArea);
}

function post(message: PdfWorkerMessage): void {
  parentPort?.postMessage(message);
}

// --- Passwords ----------------------------------------------------------------------------------

/** RFC 4013 SASLprep mapping step (no prohibition checks): what AES-256 (R6) passwords expect. */
function saslPrep(password: string): string {
  let mapped = "";
  for (const ch of password) {
    const cp = ch.codePointAt(0) ?? 0;
    // RFC 3454 B.1 "commonly mapped to nothing"
    const toNothing =
      cp === 0xad || cp === 0x34f || cp === 0x1806 || (cp >= 0x180b && cp <= 0x180d) || (cp >= 0x200b && cp <= 0x200d) ||
      cp === 0x2060 || (cp >= 0xfe00 && cp <= 0xfe0f) || cp === 0xfeff;
    if (toNothing) continue;
    // RFC 3454 C.1.2 non-ASCII spaces → U+0020
    mapped += /[\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/.test(ch) ? " " : ch;
  }
  return mapped.normalize("NFKC");
}

/** The password's UTF-8 bytes as a byte string: pdf.js truncates each char to a byte for R2-R5. */
function utf8ByteString(password: string): string {
  return Buffer.from(password, "utf8").toString("latin1");
}

/**
 * pdf.js 5.4 feeds the password as-is (one byte per char) except for R6, where it UTF-8 encodes
 * it, and never applies SASLprep. For non-ASCII passwords we therefore also try the SASLprep'd
 * form and pre-encoded UTF-8 byte strings (needed for R5 / AESV3 files).
 */
function passwordCandidates(password: string | undefined): Array<{ password: string | undefined; variant: string }> {
  if (password === undefined) return [{ password: undefined, variant: "none" }];
  const candidates = [{ password, variant: "as-given" }];
  // eslint-disable-next-line no-control-regex -- testing for "outside ASCII"
  if (/[^\u0000-\u007F]/.test(password)) {
    const prepped = saslPrep(password);
    candidates.push(
      { password: prepped, variant: "saslprep" },
      { password: utf8ByteString(password), variant: "utf8-bytes" },
      { password: utf8ByteString(prepped), variant: "saslprep-utf8-bytes" },
    );
  }
  const seen = new Set<string>();
  return candidates.filter((c) => !seen.has(c.password) && seen.add(c.password));
}

// --- Extraction -----------------------------------------------------------------------------------

function errorFacts(err: unknown): { name: string; message: string; passwordCode?: number } {
  if (err instanceof Error) {
    const cause = err.cause as { code?: unknown } | undefined;
    const codeHolder = (err as Error & { code?: unknown }).code ?? cause?.code;
    const facts: { name: string; message: string; passwordCode?: number } = { name: err.name, message: err.message };
    if (err.name === "PasswordException" && typeof codeHolder === "number") facts.passwordCode = codeHolder;
    return facts;
  }
  return { name: "Error", message: String(err) };
}

function mentionsBrotli(data: Uint8Array): boolean {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).includes("/BrotliDecode", 0, "latin1");
}

/**
 * Probes up to `imageProbeMaxPages` sparse pages for page-sized images. Runs after the text has
 * been posted: building an operator list decodes images and can be slow or, on hostile files
 * (operator_list_cycle.pdf), unbounded and starving this thread's timers, so the time budget is
 * enforced by the main thread, which keeps the text if the probe does not answer in time.
 */
async function probeImages(parser: PDFParse, pages: PdfWorkerPage[], request: PdfWorkerRequest): Promise<PdfImageProbe | undefined> {
  // pdf-parse has no public accessor for the pdf.js document; `load()` returns the cached one.
  const load = (parser as unknown as { load?: () => Promise<PdfDocumentLike> }).load;
  if (typeof load !== "function") return undefined;
  const disable = pdfjs.AnnotationMode.DISABLE ?? 0;
  const sparse = pages.filter((p) => countWords(p.text) < request.minWordsPerPage).slice(0, request.imageProbeMaxPages);
  const doc = await load.call(parser);
  let pagesWithImages = 0;
  for (const { num } of sparse) {
    const page = await doc.getPage(num);
    if ((await imageCoverage(page, disable)) >= request.imageCoverage) pagesWithImages++;
    page.cleanup();
  }
  return { pagesChecked: sparse.length, pagesWithImages };
}

function newParser(data: Uint8Array, password: string | undefined): PDFParse {
  return new PDFParse({
    // pdf.js takes ownership of (detaches) the buffer; keep the original for retries.
    data: data.slice(),
    password,
    cMapUrl: CMAP_URL,
    cMapPacked: true,
    standardFontDataUrl: STANDARD_FONT_DATA_URL,
    wasmUrl: WASM_URL,
    // Untrusted input: no eval'd font/function code, no system fonts.
    isEvalSupported: false,
    useSystemFonts: false,
    stopAtErrors: false,
  });
}

/** Opens the document (trying password encodings) and reads the text; returns the open parser on success. */
async function extract(request: PdfWorkerRequest): Promise<{ result: PdfWorkerResult; parser?: PDFParse }> {
  const candidates = passwordCandidates(request.password);
  let attempts = 0;
  for (const candidate of candidates) {
    attempts++;
    const parser = newParser(request.data, candidate.password);
    try {
      // pageJoiner "" → no "-- N of M --" markers (we only use result.pages anyway).
      const text = await parser.getText({ pageJoiner: "", ...(request.maxPages !== undefined ? { first: request.maxPages } : {}) });
      const pages = text.pages.map((p) => ({ num: p.num, text: p.text }));
      const words = pages.reduce((n, p) => n + countWords(p.text), 0);
      const result: PdfWorkerResult = {
        ok: true,
        totalPages: text.total,
        pages,
        extractor: EXTRACTOR,
        probePending: pages.length > 0 && words / pages.length < request.minWordsPerPage,
      };
      if (candidate.password !== undefined) result.passwordVariant = candidate.variant;
      try {
        const info = (await parser.getInfo()) as { info?: { Title?: unknown } };
        const title = info.info?.Title;
        if (typeof title === "string") result.title = title;
      } catch {
        // Broken Info dictionary / outline / page labels: no title.
      }
      return { result, parser };
    } catch (err) {
      await parser.destroy().catch(() => undefined);
      const facts = errorFacts(err);
      const wrongPassword = facts.name === "PasswordException" && facts.passwordCode === 2;
      if (wrongPassword && attempts < candidates.length) continue;
      return { result: { ok: false, ...facts, passwordAttempts: attempts, brotli: mentionsBrotli(request.data) } };
    }
  }
  // Unreachable: passwordCandidates() always yields at least one candidate.
  return { result: { ok: false, name: "Error", message: "no password candidates", brotli: false } };
}

// Documents arrive one at a time ({ type: "job" }); the thread is reused until the main
// thread retires it, so pdf.js is loaded once, not once per document.
async function run(request: PdfWorkerRequest): Promise<void> {
  const { result, parser } = await extract(request);
  post({ type: "result", result });
  if (parser !== undefined && result.ok && result.probePending) {
    let probe: PdfImageProbe | undefined;
    try {
      probe = await probeImages(parser, result.pages, request);
    } catch {
      // A page whose operator list cannot be built: inconclusive.
    }
    post({ type: "probe", probe });
  }
  await parser?.destroy().catch(() => undefined);
  post({ type: "idle" });
}

parentPort?.on("message", (message: { type: "job"; request: PdfWorkerRequest }) => {
  if (message.type === "job") void run(message.request);
});
post({ type: "ready" });
