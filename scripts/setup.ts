// One-step local set-up used by `npm run demo`, `npm test` and `npm run bench`:
// reuse (or start) the local PostgreSQL, create the database, make sure pgvector 0.8+
// is available (building it from Debian's sources where it is missing), and migrate.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { loadConfig, projectRoot } from "../src/config.ts";
import { migrateUp } from "../src/db/migrate.ts";

const forTests = process.argv.includes("--test");
const say = (msg: string) => process.stdout.write(`setup: ${msg}\n`);

function fail(msg: string): never {
  process.stderr.write(`setup: ${msg}\n`);
  process.exit(1);
}

async function canConnect(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

async function ensureServer(url: string): Promise<void> {
  const maintenance = withDatabase(url, "postgres");
  if ((await canConnect(maintenance)) === null) return;
  // Debian-family: the cluster may simply be stopped.
  if (existsSync("/usr/bin/pg_ctlcluster") && existsSync("/etc/postgresql")) {
    for (const version of execFileSync("ls", ["/etc/postgresql"], { encoding: "utf8" }).split(/\s+/).filter(Boolean)) {
      say(`starting PostgreSQL ${version} (pg_ctlcluster ${version} main start)`);
      spawnSync("pg_ctlcluster", ["--skip-systemctl-redirect", version, "main", "start"], { stdio: "inherit" });
    }
    for (let i = 0; i < 20; i++) {
      if ((await canConnect(maintenance)) === null) return;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  fail(
    `cannot reach PostgreSQL at ${new URL(url).host}: ${await canConnect(maintenance)}\n` +
      "Start a local PostgreSQL 15+ (Debian: apt-get install postgresql) or set DATABASE_URL to a server with pgvector\n" +
      "(docker: docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust pgvector/pgvector:pg17).",
  );
}

async function ensureDatabase(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const client = new pg.Client({ connectionString: withDatabase(url, "postgres") });
  await client.connect();
  try {
    const exists = await client.query("select 1 from pg_database where datname = $1", [name]);
    if (exists.rowCount === 0) {
      say(`creating database ${name}`);
      await client.query(`create database "${name.replaceAll('"', '""')}"`);
    }
  } finally {
    await client.end();
  }
}

async function ensurePgvector(url: string): Promise<void> {
  const check = async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const res = await client.query<{ default_version: string }>(
        "select default_version from pg_available_extensions where name = 'vector'",
      );
      return res.rows[0]?.default_version ?? null;
    } finally {
      await client.end();
    }
  };
  const version = await check();
  const ok = (v: string | null) => v !== null && Number(v.split(".")[0]) * 100 + Number(v.split(".")[1]) >= 8;
  if (ok(version)) return;
  say(version ? `pgvector ${version} is too old (need 0.8+)` : "pgvector is not installed on this server");
  const host = new URL(url).hostname;
  if (!["127.0.0.1", "localhost", "::1", "[::1]"].includes(host)) {
    fail(`install pgvector 0.8+ on the server at ${host} (https://github.com/pgvector/pgvector#installation).`);
  }
  say("installing pgvector from Debian's source package (about 20 s)...");
  const res = spawnSync("bash", [path.join(projectRoot, "scripts/install-pgvector.sh")], { stdio: "inherit" });
  if (res.status !== 0 || !ok(await check())) fail("pgvector installation failed (see above).");
}

async function createExtension(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("create extension if not exists vector with schema public");
  } finally {
    await client.end();
  }
}

const cfg = (() => {
  try {
    return loadConfig();
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
})();
const url = forTests ? (process.env.TEST_DATABASE_URL ?? withDatabase(cfg.DATABASE_URL, "botkit_test")) : cfg.DATABASE_URL;

await ensureServer(url);
await ensureDatabase(url);
await ensurePgvector(url);
await createExtension(url);
if (!forTests) {
  const applied = await migrateUp({ db: cfg }).catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
  say(`database ready (${new URL(url).host}${new URL(url).pathname}, schema ${cfg.BOTKIT_SCHEMA}; ${applied.length} migration(s) applied)`);
} else {
  say(`test database ready (${new URL(url).host}${new URL(url).pathname})`);
}
