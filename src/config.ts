// Configuration from the environment, validated with zod. Every variable is listed in the README.
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const identifier = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a lower-case SQL identifier (letters, digits, _; at most 63 chars)");

const int = (min: number, max: number) =>
  z.coerce
    .number({ error: "must be a number" })
    .int("must be an integer")
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"], { error: "must be true or false" })
  .transform((v) => v === "true" || v === "1" || v === "yes");

const defaultDatabaseUrl = (env: NodeJS.ProcessEnv) =>
  `postgres://${encodeURIComponent(env.PGUSER ?? os.userInfo().username)}@127.0.0.1:5432/botkit`;

export const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .refine((v) => /^postgres(ql)?:\/\//.test(v), "must be a postgres:// or postgresql:// URL")
    .optional(),
  BOTKIT_SCHEMA: identifier.default("botkit"),
  BOTKIT_WORKER_SCHEMA: identifier.default("graphile_worker"),
  WORKER_CONCURRENCY: int(1, 1000).default(4),
  WORKER_POLL_INTERVAL_MS: int(50, 600_000).default(2000),
  WORKER_SHUTDOWN_TIMEOUT_MS: int(0, 3_600_000).default(25_000),
  DB_POOL_SIZE: int(1, 200).optional(),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  CRONTAB_FILE: z.string().default(path.join(projectRoot, "crontab")),
  BOTKIT_STORAGE_ROOTS: z
    .string()
    .default(path.join(projectRoot, "storage"))
    .transform((v) => v.split(path.delimiter).filter(Boolean).map((p) => path.resolve(p))),
  EMBEDDING_PROVIDER: z.enum(["local", "openai"]).default("local"),
  EMBEDDING_MODEL: z.string().min(1).optional(),
  EMBEDDING_DIMENSIONS: int(1, 16_000).optional(),
  EMBEDDING_SEND_DIMENSIONS: bool.default(true),
  EMBEDDING_CONCURRENCY: int(1, 64).default(4),
  EMBEDDING_MAX_RETRIES: int(0, 20).default(6),
  EMBEDDING_TPM: int(1, 1_000_000_000).optional(),
  EMBEDDING_RPM: int(1, 10_000_000).optional(),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: z.url({ error: "must be a URL" }).optional(),
  /** Read by src/ingest/extract/pdf.ts when it starts its thread pool; validated here. */
  PDF_WORKERS: int(1, 16).default(1),
  HTTP_ALLOW_HOSTS: z
    .string()
    .default("")
    .transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean)),
});

export type Env = z.infer<typeof envSchema>;

export interface Config extends Omit<Env, "DATABASE_URL"> {
  DATABASE_URL: string;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses the environment; throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "unset", as in most .env tooling.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = issue.path.join(".");
      const value = cleaned[key];
      return `  ${key}: ${issue.message}${value === undefined ? "" : ` (got ${JSON.stringify(value)})`}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const cfg = parsed.data;
  if (cfg.EMBEDDING_PROVIDER === "openai" && !cfg.OPENAI_API_KEY && !cfg.OPENAI_BASE_URL) {
    throw new ConfigError(
      "Invalid configuration:\n  OPENAI_API_KEY: required when EMBEDDING_PROVIDER=openai (or set OPENAI_BASE_URL for a keyless OpenAI-compatible server)",
    );
  }
  return { ...cfg, DATABASE_URL: cfg.DATABASE_URL ?? defaultDatabaseUrl(env) };
}
