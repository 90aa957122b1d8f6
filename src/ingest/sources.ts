// Where a document's text comes from. Each Source recognises some documents and turns
// them into an ExtractedDocument; the first that handles a document wins. WordPress
// sync plugs in by adding its own Source in front (registerSource).
import { open, stat } from "node:fs/promises";
import path from "node:path";
import { FetchError, guardedFetch, type FetchResult, type GuardedFetchOptions } from "../http/index.ts";
import { decodeBody } from "../http/index.ts";
import { resolveInsideRoots, StoragePathError } from "../storage.ts";
import { extractHtml } from "./extract/html.ts";
import { extractPdf } from "./extract/pdf.ts";
import { decodeTextBytes, extractText } from "./extract/text.ts";
import { ExtractionError, type ExtractedDocument } from "./types.ts";

/** The documents-row fields a source may use. */
export interface SourceDocument {
  id: string;
  title: string;
  source_type: string;
  source_id: string | null;
  file_path: string | null;
  mime_type: string | null;
  content: string | null;
  source_url: string | null;
  metadata: Record<string, unknown>;
}

export interface SourceDeps {
  storageRoots: readonly string[];
  maxBytes: number;
  pdfTimeoutMs: number;
  fetch: (url: string, options: GuardedFetchOptions) => Promise<FetchResult>;
  signal?: AbortSignal;
}

export interface Source {
  name: string;
  handles(doc: SourceDocument): boolean;
  load(doc: SourceDocument, deps: SourceDeps): Promise<ExtractedDocument>;
  /**
   * A cheap token that changes whenever the source's bytes may have changed beyond the
   * documents row (e.g. a file's size and mtime). null: unknown, always re-extract.
   */
  fingerprint?(doc: SourceDocument, deps: SourceDeps): Promise<string | null>;
}

type Format = "pdf" | "html" | "markdown" | "text";

function formatOf(mime: string | null | undefined, fileName: string | null | undefined, head?: Uint8Array): Format | null {
  const m = (mime ?? "").toLowerCase().split(";")[0]!.trim();
  if (m === "application/pdf") return "pdf";
  if (m === "text/html" || m === "application/xhtml+xml") return "html";
  if (m === "text/markdown" || m === "text/x-markdown") return "markdown";
  if (m === "text/plain") return "text";
  const ext = path.extname(fileName ?? "").toLowerCase();
  if (ext === ".pdf") return "pdf";
  if (ext === ".html" || ext === ".htm" || ext === ".xhtml") return "html";
  if (ext === ".md" || ext === ".markdown") return "markdown";
  if (ext === ".txt" || ext === ".text") return "text";
  if (head && Buffer.from(head.subarray(0, 5)).toString("latin1") === "%PDF-") return "pdf";
  return null;
}

async function readStorageFile(filePath: string, deps: SourceDeps): Promise<Buffer> {
  let real: string;
  try {
    real = await resolveInsideRoots(filePath, deps.storageRoots);
  } catch (err) {
    if (err instanceof StoragePathError) throw new ExtractionError(err.reason, err.message);
    throw err;
  }
  const handle = await open(real, "r");
  try {
    const { size } = await handle.stat();
    if (size > deps.maxBytes) {
      throw new ExtractionError("too_large", `file is ${size} bytes; the limit is ${deps.maxBytes} (setting max_document_bytes)`);
    }
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

async function extractBytes(bytes: Buffer, format: Format, doc: SourceDocument, deps: SourceDeps, charsetHint?: string): Promise<ExtractedDocument> {
  switch (format) {
    case "pdf": {
      const password = typeof doc.metadata.pdf_password === "string" ? doc.metadata.pdf_password : undefined;
      return extractPdf(bytes, { timeoutMs: deps.pdfTimeoutMs, ...(password ? { password } : {}) });
    }
    case "html":
      return extractHtml(decodeBody(bytes, charsetHint ? `text/html; charset=${charsetHint}` : "text/html"));
    case "markdown":
      return extractText(decodeTextBytes(bytes, charsetHint), { markdown: true });
    case "text":
      return extractText(decodeTextBytes(bytes, charsetHint));
  }
}

const inlineFormats: Record<string, Format> = { text: "text", markdown: "markdown", html: "html" };

/** text, markdown and html documents: inline `content`, or a file in the storage roots. */
const inlineOrFileSource: Source = {
  name: "inline-or-file",
  handles: (doc) => doc.source_type in inlineFormats || doc.source_type === "pdf" || doc.source_type === "file",
  async load(doc, deps) {
    if (doc.content !== null && doc.source_type in inlineFormats) {
      const format = inlineFormats[doc.source_type]!;
      if (format === "html") return extractHtml(doc.content);
      return extractText(doc.content, { markdown: format === "markdown" });
    }
    if (!doc.file_path) {
      throw new ExtractionError("empty", `document of type ${doc.source_type} has neither content nor file_path`);
    }
    const bytes = await readStorageFile(doc.file_path, deps);
    const format =
      doc.source_type === "pdf" ? "pdf" : (inlineFormats[doc.source_type] ?? formatOf(doc.mime_type, doc.file_path, bytes));
    if (!format) {
      throw new ExtractionError("unsupported_format", `cannot tell the format of ${doc.file_path} (mime type ${doc.mime_type ?? "unset"})`);
    }
    return extractBytes(bytes, format, doc, deps);
  },
  async fingerprint(doc, deps) {
    if (doc.content !== null && doc.source_type in inlineFormats) return "inline"; // the row itself is fingerprinted
    if (!doc.file_path) return null;
    try {
      const real = await resolveInsideRoots(doc.file_path, deps.storageRoots);
      const st = await stat(real);
      return `file:${real}:${st.size}:${st.mtimeMs}`;
    } catch {
      return null; // load() reports the problem
    }
  },
};

/** url documents: fetched through the guarded client. */
const urlSource: Source = {
  name: "url",
  handles: (doc) => doc.source_type === "url",
  async load(doc, deps) {
    if (!doc.source_url) throw new ExtractionError("empty", "url document has no source_url");
    let res: FetchResult;
    try {
      res = await deps.fetch(doc.source_url, {
        accept: ["text/html", "application/xhtml+xml", "text/plain", "text/markdown", "application/pdf"],
        maxBytes: deps.maxBytes,
        ...(deps.signal ? { signal: deps.signal } : {}),
      });
    } catch (err) {
      if (err instanceof FetchError) {
        // Blocked addresses, bad URLs and refused content are permanent; the network may recover.
        throw new ExtractionError("fetch_failed", `fetching ${doc.source_url} failed: ${err.message}`, { cause: err, permanent: !err.transient });
      }
      throw err;
    }
    const format = formatOf(res.contentType, new URL(res.url).pathname, res.body) ?? "text";
    if (format === "html") return extractHtml(decodeBody(res.body, String(res.headers["content-type"] ?? "")), { url: res.url });
    const charset = /charset=([^;]+)/i.exec(String(res.headers["content-type"] ?? ""))?.[1]?.trim();
    return extractBytes(res.body, format, doc, deps, charset);
  },
};

/**
 * Any other source_type is a WordPress post type (post, page, product, sfwd-courses...):
 * `content` holds the rendered post HTML, which is already the main content.
 */
const wordpressContentSource: Source = {
  name: "wordpress-content",
  handles: () => true,
  async load(doc) {
    if (doc.content === null) {
      throw new ExtractionError("empty", `${doc.source_type} ${doc.source_id ?? doc.id} has no content yet (WordPress sync fills it)`);
    }
    const extracted = extractHtml(doc.content, { mode: "full" });
    return { ...extracted, title: doc.title || extracted.title };
  },
  fingerprint: async () => "inline",
};

const registry: Source[] = [inlineOrFileSource, urlSource, wordpressContentSource];

export function registerSource(source: Source): void {
  registry.unshift(source);
}

export function sourceFor(doc: SourceDocument): Source {
  return registry.find((s) => s.handles(doc))!;
}

export function defaultFetch(allowHosts: readonly string[]): SourceDeps["fetch"] {
  return (url, options) => guardedFetch(url, { ...options, allowHosts });
}
