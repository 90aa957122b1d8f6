// Shared shapes of the ingestion pipeline: extract → chunk → hash/diff → embed → store.

/** One structural unit of extracted text, in reading order. */
export interface TextBlock {
  kind: "heading" | "paragraph" | "list" | "table" | "code" | "quote";
  text: string;
  /** Heading level 1..6 for kind "heading". */
  level?: number;
  /** 1-based page number where the source has pages (PDF). */
  page?: number;
}

/** What every extractor returns: a title (if the source has one) and blocks. */
export interface ExtractedDocument {
  title?: string;
  blocks: TextBlock[];
  /** Source-specific facts worth keeping (page count, language, byline, extractor used...). */
  meta: Record<string, unknown>;
}

/**
 * Why an extraction failed. Permanent reasons are never retried: the same
 * bytes will fail the same way.
 */
export type ExtractionFailureReason =
  | "needs_password"
  | "corrupt"
  | "scanned_needs_ocr"
  | "garbage_text_layer"
  | "unsupported_format"
  | "timeout"
  | "too_large"
  | "empty"
  | "outside_storage_root"
  | "not_found"
  | "fetch_failed";

const TRANSIENT: ReadonlySet<ExtractionFailureReason> = new Set(["fetch_failed"]);

export class ExtractionError extends Error {
  override name = "ExtractionError";
  readonly reason: ExtractionFailureReason;
  readonly permanent: boolean;
  constructor(reason: ExtractionFailureReason, message: string, options?: { cause?: unknown; permanent?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.permanent = options?.permanent ?? !TRANSIENT.has(reason);
  }
}

/** A chunk as produced by the chunker, before hashing and embedding. */
export interface Chunk {
  index: number;
  /** The chunk's text as stored in chunks.content. */
  text: string;
  tokenCount: number;
  headingPath: string[];
  /** First and last page the chunk covers (PDF). */
  pageStart?: number;
  pageEnd?: number;
  /** Offsets (UTF-16 code units) into the document's canonical text (blocks joined by "\n\n"). */
  charStart: number;
  charEnd: number;
}

export interface EmbeddingResult {
  vectors: Float32Array[];
  /** Tokens billed or counted for the request(s). */
  tokens: number;
  /** Number of HTTP requests (0 for the local embedder). */
  requests: number;
}

/** An embedding model behind one interface: OpenAI-compatible HTTP or the local lexical hasher. */
export interface Embedder {
  readonly provider: "openai" | "local";
  readonly model: string;
  readonly dimensions: number;
  /** Tokens of one input as the provider counts them (or a documented safe over-estimate). */
  countTokens(text: string): number;
  /** Embeds texts in order; batching, concurrency and rate limits are the embedder's job. */
  embed(texts: string[], options?: { signal?: AbortSignal }): Promise<EmbeddingResult>;
}

/** Embedding failures: `kind` tells the pipeline whether a retry can help. */
export class EmbeddingError extends Error {
  override name = "EmbeddingError";
  readonly kind: "quota_exhausted" | "dimension_mismatch" | "bad_request" | "auth" | "transient" | "aborted";
  constructor(kind: EmbeddingError["kind"], message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
  }
  get permanent(): boolean {
    return this.kind !== "transient" && this.kind !== "aborted";
  }
}
