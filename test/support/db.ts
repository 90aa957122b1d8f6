// Each test file gets its own botkit schema and graphile-worker schema in the test
// database, so files never see each other's rows or jobs.
import os from "node:os";
import pg from "pg";
import type { DatabasePool } from "slonik";
import { loadConfig, type Config } from "../../src/config.ts";
import { migrateUp } from "../../src/db/migrate.ts";
import { createPgPool, createSlonikPool } from "../../src/db/pool.ts";

export const testDatabaseUrl =
  process.env.TEST_DATABASE_URL ??
  `postgres://${encodeURIComponent(process.env.PGUSER ?? os.userInfo().username)}@127.0.0.1:5432/botkit_test`;

export function testConfig(name: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    DATABASE_URL: testDatabaseUrl,
    BOTKIT_SCHEMA: `t_${name}`,
    BOTKIT_WORKER_SCHEMA: `t_${name}_gw`,
    LOG_LEVEL: "error",
    WORKER_POLL_INTERVAL_MS: "100",
    ...env,
  });
}

/** Drops the schemas (from a previous run) without migrating. */
export async function dropSchemas(cfg: Config): Promise<void> {
  const client = new pg.Client({ connectionString: cfg.DATABASE_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists ${cfg.BOTKIT_SCHEMA} cascade`);
    await client.query(`drop schema if exists ${cfg.BOTKIT_WORKER_SCHEMA} cascade`);
  } finally {
    await client.end();
  }
}

export interface TestDb {
  cfg: Config;
  pg: pg.Pool;
  db: DatabasePool;
  close(): Promise<void>;
}

/** A freshly migrated schema pair with a pg pool and a slonik pool on it. */
export async function freshDatabase(name: string, env: Record<string, string> = {}): Promise<TestDb> {
  const cfg = testConfig(name, env);
  await dropSchemas(cfg);
  await migrateUp({ db: cfg });
  const pool = createPgPool(cfg, 5);
  const db = await createSlonikPool(cfg, 5);
  return {
    cfg,
    pg: pool,
    db,
    close: async () => {
      await Promise.all([pool.end(), db.end()]);
    },
  };
}
