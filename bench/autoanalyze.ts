// Stand-in for autovacuum's ANALYZE when the server runs with autovacuum = off (as the
// shared development server does). Without statistics the planner keeps its defaults for
// tables that grew from empty to tens of thousands of rows during the run, and the
// ingest's per-document queries pick plans that scan whole tables, which a production
// server (autovacuum on) would not see after its first autoanalyze. Every `naptimeMs`
// (the server's autovacuum_naptime), tables of the given schemas whose
// n_mod_since_analyze exceeds autovacuum_analyze_threshold + scale_factor x reltuples are
// analyzed, like the autovacuum launcher would.
import type pg from "pg";

export interface AutoAnalyzeInfo {
  serverAutovacuum: boolean;
  emulated: boolean;
  naptimeMs: number;
  threshold: number;
  scaleFactor: number;
  /** Seconds since start and table of every ANALYZE run. */
  runs: { atS: number; table: string }[];
  /** ANALYZEs skipped because the table's lock was taken. */
  skipped: number;
}

export async function serverAutovacuum(pool: pg.Pool): Promise<{ on: boolean; naptimeMs: number; threshold: number; scaleFactor: number }> {
  const res = await pool.query<{ name: string; setting: string }>(
    `select name, setting from pg_settings
      where name in ('autovacuum', 'autovacuum_naptime', 'autovacuum_analyze_threshold', 'autovacuum_analyze_scale_factor', 'track_counts')`,
  );
  const s = Object.fromEntries(res.rows.map((r) => [r.name, r.setting]));
  return {
    on: s.autovacuum === "on" && s.track_counts === "on",
    naptimeMs: Number(s.autovacuum_naptime ?? 60) * 1000,
    threshold: Number(s.autovacuum_analyze_threshold ?? 50),
    scaleFactor: Number(s.autovacuum_analyze_scale_factor ?? 0.1),
  };
}

export class AutoAnalyze {
  readonly info: AutoAnalyzeInfo;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private started = 0;
  private readonly pool: pg.Pool;
  private readonly schemas: string[];

  constructor(pool: pg.Pool, schemas: string[], info: Omit<AutoAnalyzeInfo, "runs" | "skipped">) {
    this.pool = pool;
    this.schemas = schemas;
    this.info = { ...info, runs: [], skipped: 0 };
  }

  start(): void {
    if (!this.info.emulated || this.timer !== undefined) return;
    this.started = performance.now();
    this.timer = setInterval(() => {
      this.running = this.running.then(() => this.pass()).catch(() => {});
    }, this.info.naptimeMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async pass(): Promise<void> {
    const due = await this.pool.query<{ schema: string; name: string }>(
      `select s.schemaname as schema, s.relname as name
         from pg_stat_user_tables s join pg_class c on c.oid = s.relid
        where s.schemaname = any($1)
          and s.n_mod_since_analyze > $2 + $3 * greatest(c.reltuples, 0)`,
      [this.schemas, this.info.threshold, this.info.scaleFactor],
    );
    for (const t of due.rows) {
      // Like autovacuum, never hold up anyone else: a table whose lock is not free at once
      // (e.g. during CREATE INDEX CONCURRENTLY, which would otherwise wait for this
      // transaction and deadlock) is skipped until the next pass.
      const client = await this.pool.connect();
      try {
        await client.query("begin");
        await client.query("set local lock_timeout = '50ms'");
        await client.query(`analyze ${t.schema}.${t.name}`);
        await client.query("commit");
        this.info.runs.push({ atS: Math.round((performance.now() - this.started) / 100) / 10, table: `${t.schema}.${t.name}` });
      } catch {
        await client.query("rollback").catch(() => {});
        this.info.skipped++;
      } finally {
        client.release();
      }
    }
  }
}
