// The benchmark database: always `botkit_bench` (created through the `postgres`
// database when missing) on the server of BENCH_DATABASE_URL / DATABASE_URL, with one
// freshly migrated schema pair per benchmark (bench + bench_gw, ...). The databases
// botkit and botkit_test are never touched.
import pg from "pg";
import { loadConfig, type Config } from "../src/config.ts";
import { migrateUp } from "../src/db/migrate.ts";
import { dropSchemas } from "../test/support/db.ts";

export const BENCH_DATABASE = "botkit_bench";

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/** The bench database URL: the configured server, database botkit_bench. */
export function benchDatabaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.BENCH_DATABASE_URL || loadConfig({ DATABASE_URL: env.DATABASE_URL, PGUSER: env.PGUSER }).DATABASE_URL;
  return withDatabase(base, BENCH_DATABASE);
}

export async function ensureBenchDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: withDatabase(url, "postgres") });
  await client.connect();
  try {
    const exists = await client.query("select 1 from pg_database where datname = $1", [BENCH_DATABASE]);
    if (exists.rowCount === 0) await client.query(`create database ${BENCH_DATABASE}`);
  } finally {
    await client.end();
  }
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    await db.query("create extension if not exists vector with schema public");
  } finally {
    await db.end();
  }
}

/** Config for a bench schema pair (`schema`, `schema`_gw) in the bench database. */
export function benchConfig(url: string, schema: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    DATABASE_URL: url,
    BOTKIT_SCHEMA: schema,
    BOTKIT_WORKER_SCHEMA: `${schema}_gw`,
    LOG_LEVEL: "warn",
    CRONTAB_FILE: "/nonexistent/botkit-bench-crontab",
    ...env,
  });
}

/** Drops and re-creates the schema pair, migrates it and sets ingest_debounce_seconds = 0. */
export async function freshSchema(cfg: Config): Promise<void> {
  await dropSchemas(cfg);
  await migrateUp({ db: cfg });
  const client = new pg.Client({ connectionString: cfg.DATABASE_URL });
  await client.connect();
  try {
    await client.query(`update ${cfg.BOTKIT_SCHEMA}.settings set value = '0' where key = 'ingest_debounce_seconds'`);
  } finally {
    await client.end();
  }
}

/** Server facts for the report. */
export async function serverInfo(pool: pg.Pool): Promise<Record<string, string>> {
  const res = await pool.query<{ name: string; setting: string }>(
    `select 'server_version' as name, current_setting('server_version') as setting
     union all select 'pgvector', extversion from pg_extension where extname = 'vector'
     union all select name, setting || coalesce(unit, '') from pg_settings
      where name in ('shared_buffers', 'maintenance_work_mem', 'max_parallel_maintenance_workers', 'synchronous_commit', 'work_mem')`,
  );
  return Object.fromEntries(res.rows.map((r) => [r.name, r.setting]));
}
