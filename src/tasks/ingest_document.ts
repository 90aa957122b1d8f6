import { z } from "zod";
import { defaultFetch } from "../ingest/sources.ts";
import { ingestDocument } from "../ingest/pipeline.ts";
import { loadSettings } from "../settings.ts";
import { defineTask } from "./define.ts";

export const ingestDocumentTask = defineTask({
  name: "ingest_document",
  payload: z.object({
    document_id: z.union([z.number().int().positive(), z.string().regex(/^\d+$/)]).transform(String),
    /** Re-extract even when the source looks unchanged. */
    force: z.boolean().optional(),
  }),
  async run(payload, ctx, job) {
    const settings = await loadSettings(ctx.pg);
    const stats = await ingestDocument(
      {
        db: ctx.db,
        pg: ctx.pg,
        embedder: ctx.embedder,
        log: job.log,
        settings: {
          chunkSizeTokens: settings.chunk_size_tokens,
          chunkOverlapTokens: settings.chunk_overlap_tokens,
          prependTitle: settings.chunk_prepend_title,
        },
        sources: {
          storageRoots: ctx.cfg.BOTKIT_STORAGE_ROOTS,
          maxBytes: settings.max_document_bytes,
          pdfTimeoutMs: settings.pdf_timeout_seconds * 1000,
          fetch: defaultFetch(ctx.cfg.HTTP_ALLOW_HOSTS),
        },
      },
      payload.document_id,
      { ...job, force: payload.force ?? false },
    );
    job.log.info("document ingested", { document_id: payload.document_id, ...stats });
  },
});
