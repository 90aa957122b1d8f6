// Runtime settings: the settings table (seed §8 options, migration defaults) overlaid by
// environment variables BOTKIT_SETTING_<KEY> (upper-case key), validated with zod.
import type pg from "pg";
import { z } from "zod";

const mime = z.string().regex(/^[a-z]+\/[a-z0-9.+-]+$/i, "must be a MIME type");

export const settingsSchema = z.object({
  history_per_page: z.number().int().min(1).max(1000),
  search_per_page: z.number().int().min(1).max(1000),
  max_media_size: z.number().int().min(0),
  allowed_image_types: z.array(mime),
  allowed_video_types: z.array(mime),
  allowed_doc_types: z.array(mime),
  media_cleanup_days: z.number().int().min(0),
  recommendation_enabled: z.boolean(),
  recommendation_limit: z.number().int().min(0),
  interaction_retention_days: z.number().int().min(1),
  pdf_paper_size: z.string(),
  pdf_include_branding: z.boolean(),
  templates_installed: z.boolean(),
  // Ingestion (migration 0002)
  chunk_size_tokens: z.number().int().min(16).max(8191).default(512),
  chunk_overlap_tokens: z.number().int().min(0).max(4096).default(77),
  chunk_prepend_title: z.boolean().default(true),
  ingest_debounce_seconds: z.number().min(0).max(3600).default(2),
  max_document_bytes: z.number().int().min(1).default(52_428_800),
  pdf_timeout_seconds: z.number().min(1).max(3600).default(120),
  embedding_cache_retention_days: z.number().int().min(1).default(90),
  // Link unfurling (migration 0003)
  unfurl_cache_ttl_hours: z.number().min(0).default(24),
  unfurl_failure_ttl_minutes: z.number().min(0).default(60),
  unfurl_max_bytes: z.number().int().min(1024).default(2_097_152),
  unfurl_timeout_seconds: z.number().min(1).max(120).default(10),
});

export type Settings = z.infer<typeof settingsSchema>;

export class SettingsError extends Error {
  override name = "SettingsError";
}

function fromEnv(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw; // plain strings need no JSON quoting: BOTKIT_SETTING_PDF_PAPER_SIZE=a4
  }
}

/** Reads and validates settings; unknown keys in the table are kept out of the typed result. */
export async function loadSettings(pool: pg.Pool, env: NodeJS.ProcessEnv = process.env): Promise<Settings> {
  const res = await pool.query<{ key: string; value: unknown }>("select key, value from settings");
  const values: Record<string, unknown> = Object.fromEntries(res.rows.map((r) => [r.key, r.value]));
  const overridden: string[] = [];
  for (const key of Object.keys(settingsSchema.shape)) {
    const raw = env[`BOTKIT_SETTING_${key.toUpperCase()}`];
    if (raw !== undefined && raw !== "") {
      values[key] = fromEnv(raw);
      overridden.push(key);
    }
  }
  const parsed = settingsSchema.safeParse(values);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const key = String(i.path[0] ?? "");
      const source = overridden.includes(key) ? `env BOTKIT_SETTING_${key.toUpperCase()}` : "settings table";
      return `  ${i.path.join(".")} (${source}): ${i.message}`;
    });
    throw new SettingsError(`Invalid settings:\n${lines.join("\n")}`);
  }
  return parsed.data;
}
