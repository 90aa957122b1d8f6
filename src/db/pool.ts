// Connection pools. pg serves graphile-worker, migrations and binary COPY; slonik serves
// typed queries. Both connect with search_path = <botkit schema>, <worker schema>, public,
// so SQL in the code base names tables without a schema.
import pg from "pg";
import { createPool, type DatabasePool } from "slonik";
import type { Config } from "../config.ts";

export type DbConfig = Pick<Config, "DATABASE_URL" | "BOTKIT_SCHEMA" | "BOTKIT_WORKER_SCHEMA">;

export function searchPath(cfg: Pick<DbConfig, "BOTKIT_SCHEMA" | "BOTKIT_WORKER_SCHEMA">): string {
  // Identifiers are validated by the config schema (lower-case, [a-z0-9_]).
  return `${cfg.BOTKIT_SCHEMA},${cfg.BOTKIT_WORKER_SCHEMA},public`;
}

/** DATABASE_URL with `options=-c search_path=...` added (kept if the URL already sets options). */
export function connectionStringFor(cfg: DbConfig, applicationName = "botkit-worker"): string {
  const url = new URL(cfg.DATABASE_URL);
  if (!url.searchParams.has("options")) url.searchParams.set("options", `-c search_path=${searchPath(cfg)}`);
  if (!url.searchParams.has("application_name")) url.searchParams.set("application_name", applicationName);
  return url.toString();
}

export function createPgPool(cfg: DbConfig, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: connectionStringFor(cfg), max });
  // A client's error (server restart, terminated backend) must not crash the process:
  // the pool drops the client and the query that used it fails on its own.
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  return pool;
}

export async function createSlonikPool(cfg: DbConfig, max = 10): Promise<DatabasePool> {
  return createPool(connectionStringFor(cfg), { maxPoolSize: max, statementTimeout: 300_000 });
}
