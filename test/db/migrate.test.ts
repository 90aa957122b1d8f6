import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { defaultMigrationsDir, migrateDown, migrateUp, migrationStatus, MigrationError, readMigrations } from "../../src/db/migrate.ts";
import { dropSchemas, testConfig } from "../support/db.ts";

const cfg = testConfig("migrate");
const admin = new pg.Pool({ connectionString: cfg.DATABASE_URL, max: 2 });

async function tables(): Promise<string[]> {
  const res = await admin.query<{ table_name: string }>(
    "select table_name from information_schema.tables where table_schema = $1 order by 1",
    [cfg.BOTKIT_SCHEMA],
  );
  return res.rows.map((r) => r.table_name);
}

afterAll(async () => {
  await admin.end();
});

describe("migrations", () => {
  beforeEach(async () => {
    await dropSchemas(cfg);
  });

  it("goes up from empty, reports status, goes down to zero and up again", async () => {
    const files = await readMigrations();
    expect(files.length).toBeGreaterThan(0);
    expect(files.every((f) => f.downPath !== null)).toBe(true);

    const applied = await migrateUp({ db: cfg });
    expect(applied.map((m) => m.version)).toEqual(files.map((f) => f.version));
    const seedTables = ["documents", "document_metadata", "chunks", "embeddings", "chatbots", "conversations", "messages",
      "content_relationships", "analytics", "wp_content", "templates", "media", "user_interactions", "email_queue",
      "ai_response_cache", "settings"];
    expect(await tables()).toEqual(expect.arrayContaining([...seedTables, "schema_migrations"]));

    const status = await migrationStatus({ db: cfg });
    expect(status.map((s) => s.state)).toEqual(files.map(() => "applied"));
    expect(await migrateUp({ db: cfg })).toEqual([]); // idempotent

    const rolled = await migrateDown({ db: cfg, steps: Number.MAX_SAFE_INTEGER });
    expect(rolled.map((s) => s.version)).toEqual(files.map((f) => f.version).reverse());
    expect(await tables()).toEqual(["schema_migrations"]);
    const functions = await admin.query(
      "select proname from pg_proc where pronamespace = $1::regnamespace", [cfg.BOTKIT_SCHEMA]);
    expect(functions.rows).toEqual([]);
    expect((await migrationStatus({ db: cfg })).every((s) => s.state === "pending")).toBe(true);

    await migrateUp({ db: cfg });
    expect(await tables()).toEqual(expect.arrayContaining(seedTables));
    const templates = await admin.query(`select count(*)::int as n from ${cfg.BOTKIT_SCHEMA}.templates where is_system`);
    expect(templates.rows[0].n).toBe(6);
  });

  it("down N rolls back exactly N migrations", async () => {
    const files = await readMigrations();
    await migrateUp({ db: cfg });
    const rolled = await migrateDown({ db: cfg, steps: 1 });
    expect(rolled).toHaveLength(1);
    expect(rolled[0]!.version).toBe(files.at(-1)!.version);
    const status = await migrationStatus({ db: cfg });
    expect(status.filter((s) => s.state === "pending").map((s) => s.version)).toEqual([files.at(-1)!.version]);
  });

  it("refuses to run when an applied migration was edited", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "botkit-mig-"));
    try {
      await cp(defaultMigrationsDir, dir, { recursive: true });
      await migrateUp({ db: cfg, dir });
      const first = (await readMigrations(dir))[0]!;
      await writeFile(first.upPath, (await readFile(first.upPath, "utf8")) + "\n-- sneaky edit\n");

      await expect(migrateUp({ db: cfg, dir })).rejects.toThrow(MigrationError);
      await expect(migrateUp({ db: cfg, dir })).rejects.toThrow(/edited after being applied: 0001_/);
      const status = await migrationStatus({ db: cfg, dir });
      expect(status.find((s) => s.version === first.version)?.state).toBe("changed");
      await expect(migrateDown({ db: cfg, dir, steps: 1 })).rejects.toThrow(MigrationError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("two concurrent `migrate up` runs leave one correct schema", async () => {
    const results = await Promise.all([migrateUp({ db: cfg }), migrateUp({ db: cfg }), migrateUp({ db: cfg })]);
    const files = await readMigrations();
    // Exactly one runner applied each migration; the others found nothing to do.
    expect(results.flat().map((m) => m.version).sort()).toEqual(files.map((f) => f.version));
    const recorded = await admin.query(`select version from ${cfg.BOTKIT_SCHEMA}.schema_migrations order by 1`);
    expect(recorded.rows.map((r) => r.version)).toEqual(files.map((f) => f.version));
    const templates = await admin.query(`select count(*)::int as n from ${cfg.BOTKIT_SCHEMA}.templates`);
    expect(templates.rows[0].n).toBe(6);
  });

  it("rolls back a failing migration completely", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "botkit-mig-"));
    try {
      await cp(defaultMigrationsDir, dir, { recursive: true });
      await writeFile(path.join(dir, "9999_broken.sql"), "create table half_done (id int);\nselect * from no_such_table;\n");
      await writeFile(path.join(dir, "9999_broken.down.sql"), "drop table half_done;\n");
      await expect(migrateUp({ db: cfg, dir })).rejects.toThrow(/9999_broken\.sql failed: relation "no_such_table" does not exist/);
      expect(await tables()).not.toContain("half_done");
      const status = await migrationStatus({ db: cfg, dir });
      expect(status.find((s) => s.version === 9999)?.state).toBe("pending");
      expect(status.filter((s) => s.state === "applied").length).toBe((await readMigrations()).length);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
