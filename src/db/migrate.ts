// Numbered SQL migrations (sql/NNNN_name.sql with NNNN_name.down.sql), applied in order,
// each in its own transaction, under a session advisory lock so concurrent replicas
// serialise; recorded with a SHA-256 checksum so an edited, applied file is an error.
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { Logger, runMigrations as runWorkerMigrations } from "graphile-worker";
import { projectRoot } from "../config.ts";
import { connectionStringFor, searchPath, type DbConfig } from "./pool.ts";

export const defaultMigrationsDir = path.join(projectRoot, "sql");

// graphile-worker's migration logger is chatty; its errors still surface as exceptions.
const quietLogger = new Logger(() => () => {});

export interface MigrationFile {
  version: number;
  name: string;
  upPath: string;
  downPath: string | null;
  checksum: string;
  upSql: string;
}

export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
  applied_at: Date;
}

export interface MigrationStatus {
  version: number;
  name: string;
  state: "applied" | "pending" | "changed" | "missing_file";
  appliedAt: Date | null;
}

export class MigrationError extends Error {
  override name = "MigrationError";
}

const fileRe = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export async function readMigrations(dir = defaultMigrationsDir): Promise<MigrationFile[]> {
  const entries = await readdir(dir);
  const out: MigrationFile[] = [];
  for (const entry of entries.sort()) {
    const m = fileRe.exec(entry);
    if (!m || entry.endsWith(".down.sql")) continue;
    const [, num, name] = m as unknown as [string, string, string];
    const upPath = path.join(dir, entry);
    const upSql = await readFile(upPath, "utf8");
    const downFile = `${num}_${name}.down.sql`;
    out.push({
      version: Number(num),
      name,
      upPath,
      downPath: entries.includes(downFile) ? path.join(dir, downFile) : null,
      checksum: createHash("sha256").update(upSql).digest("hex"),
      upSql,
    });
  }
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.version === out[i - 1]!.version) {
      throw new MigrationError(`two migrations share version ${out[i]!.version}: ${out[i - 1]!.name}, ${out[i]!.name}`);
    }
  }
  return out;
}

export interface MigrateOptions {
  db: DbConfig;
  dir?: string;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

type Client = pg.Client;

async function withLockedClient<T>(opts: MigrateOptions, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: connectionStringFor(opts.db, "botkit-migrate") });
  await client.connect();
  try {
    // One lock per schema: replicas starting together queue here instead of racing.
    await client.query("select pg_advisory_lock(hashtextextended($1, 0))", [`botkit-migrate:${opts.db.BOTKIT_SCHEMA}`]);
    try {
      await client.query(`create schema if not exists ${opts.db.BOTKIT_SCHEMA}`);
      await client.query(`
        create table if not exists ${opts.db.BOTKIT_SCHEMA}.schema_migrations (
          version     integer primary key,
          name        text not null,
          checksum    text not null,
          applied_at  timestamptz not null default now(),
          duration_ms integer not null
        )`);
      return await fn(client);
    } finally {
      await client.query("select pg_advisory_unlock(hashtextextended($1, 0))", [`botkit-migrate:${opts.db.BOTKIT_SCHEMA}`]);
    }
  } finally {
    await client.end();
  }
}

async function applied(client: Client, schema: string): Promise<AppliedMigration[]> {
  const res = await client.query<AppliedMigration>(
    `select version, name, checksum, applied_at from ${schema}.schema_migrations order by version`,
  );
  return res.rows;
}

function compare(files: MigrationFile[], done: AppliedMigration[]): MigrationStatus[] {
  const byVersion = new Map(files.map((f) => [f.version, f]));
  const statuses: MigrationStatus[] = done.map((a) => {
    const f = byVersion.get(a.version);
    return {
      version: a.version,
      name: a.name,
      state: !f ? "missing_file" : f.checksum !== a.checksum ? "changed" : "applied",
      appliedAt: a.applied_at,
    };
  });
  const doneVersions = new Set(done.map((a) => a.version));
  for (const f of files) {
    if (!doneVersions.has(f.version)) statuses.push({ version: f.version, name: f.name, state: "pending", appliedAt: null });
  }
  return statuses.sort((a, b) => a.version - b.version);
}

function assertUnchanged(statuses: MigrationStatus[]): void {
  const changed = statuses.filter((s) => s.state === "changed");
  if (changed.length > 0) {
    throw new MigrationError(
      `applied migration(s) were edited after being applied: ${changed.map((s) => `${String(s.version).padStart(4, "0")}_${s.name}`).join(", ")}. ` +
        "Restore the original file and add a new migration for the change.",
    );
  }
}

async function runInTransaction(client: Client, db: DbConfig, body: string, after: () => Promise<void>): Promise<void> {
  await client.query("begin");
  try {
    await client.query(`set local search_path to ${searchPath(db)}`);
    await client.query(body);
    await after();
    await client.query("commit");
  } catch (err) {
    await client.query("rollback");
    throw err;
  }
}

/** Installs graphile-worker's schema, then applies pending migrations. Returns what was applied. */
export async function migrateUp(opts: MigrateOptions): Promise<MigrationFile[]> {
  const log = opts.log ?? (() => {});
  await runWorkerMigrations({ connectionString: opts.db.DATABASE_URL, schema: opts.db.BOTKIT_WORKER_SCHEMA, logger: quietLogger });
  const files = await readMigrations(opts.dir);
  return withLockedClient(opts, async (client) => {
    const statuses = compare(files, await applied(client, opts.db.BOTKIT_SCHEMA));
    assertUnchanged(statuses);
    const pending = files.filter((f) => statuses.find((s) => s.version === f.version)?.state === "pending");
    for (const file of pending) {
      const started = performance.now();
      await runInTransaction(client, opts.db, file.upSql, async () => {
        await client.query(
          `insert into ${opts.db.BOTKIT_SCHEMA}.schema_migrations (version, name, checksum, duration_ms) values ($1, $2, $3, $4)`,
          [file.version, file.name, file.checksum, Math.round(performance.now() - started)],
        );
      }).catch((err: unknown) => {
        throw new MigrationError(`migration ${file.upPath} failed: ${err instanceof Error ? err.message : String(err)}`, {
          cause: err,
        });
      });
      log("migration applied", { version: file.version, name: file.name, ms: Math.round(performance.now() - started) });
    }
    return pending;
  });
}

/** Rolls back the last `steps` applied migrations with their .down.sql files. */
export async function migrateDown(opts: MigrateOptions & { steps: number }): Promise<MigrationStatus[]> {
  const log = opts.log ?? (() => {});
  const files = await readMigrations(opts.dir);
  return withLockedClient(opts, async (client) => {
    const statuses = compare(files, await applied(client, opts.db.BOTKIT_SCHEMA));
    assertUnchanged(statuses);
    const targets = statuses.filter((s) => s.state === "applied").reverse().slice(0, opts.steps);
    for (const target of targets) {
      const file = files.find((f) => f.version === target.version)!;
      if (!file.downPath) throw new MigrationError(`migration ${file.upPath} has no down file`);
      const downSql = await readFile(file.downPath, "utf8");
      await runInTransaction(client, opts.db, downSql, async () => {
        await client.query(`delete from ${opts.db.BOTKIT_SCHEMA}.schema_migrations where version = $1`, [file.version]);
      });
      log("migration rolled back", { version: file.version, name: file.name });
    }
    return targets;
  });
}

export async function migrationStatus(opts: MigrateOptions): Promise<MigrationStatus[]> {
  const files = await readMigrations(opts.dir);
  return withLockedClient(opts, async (client) => compare(files, await applied(client, opts.db.BOTKIT_SCHEMA)));
}
