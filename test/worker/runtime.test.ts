import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.ts";
import { startWorker } from "../../src/worker/start.ts";
import { envFor, runCli, startCli } from "../support/cli.ts";
import { freshDatabase, type TestDb } from "../support/db.ts";

let t: TestDb;
const q = (text: string, values: unknown[] = []) => t.pg.query(text, values);

beforeAll(async () => {
  t = await freshDatabase("runtime");
});
afterAll(async () => {
  await t.close();
});

async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

const jobs = async () =>
  (await q(`select id, task_identifier, attempts, last_error, locked_at from ${t.cfg.BOTKIT_WORKER_SCHEMA}.jobs order by id`)).rows as {
    id: string; task_identifier: string; attempts: number; last_error: string | null; locked_at: Date | null;
  }[];

async function seedCache(): Promise<void> {
  await q("delete from ai_response_cache");
  await q(`insert into ai_response_cache (cache_key, query, response, model_used, expires_at) values
    ('old-1', 'q', 'r', 'm', now() - interval '2 hours'),
    ('old-2', 'q', 'r', 'm', now() - interval '1 minute'),
    ('fresh', 'q', 'r', 'm', now() + interval '1 hour')`);
}
const cacheKeys = async () => (await q("select cache_key from ai_response_cache order by cache_key")).rows.map((r) => r.cache_key);

describe("worker runtime", () => {
  it("runs a job enqueued with plain SQL and records invalid payloads without retrying them", async () => {
    await seedCache();
    await q(`select ${t.cfg.BOTKIT_WORKER_SCHEMA}.add_job('purge_expired_caches', '{}'::json)`);
    await q(`select ${t.cfg.BOTKIT_WORKER_SCHEMA}.add_job('purge_expired_caches', '{"batch_size": "lots"}'::json)`);
    const lines: string[] = [];
    const worker = await startWorker(t.cfg, createLogger({ level: "info", write: (l) => lines.push(l) }), { crontab: "" });
    try {
      await waitFor(async () => (await jobs()).length === 0);
    } finally {
      expect(await worker.stop("test done")).toBe("graceful");
    }
    expect(await cacheKeys()).toEqual(["fresh"]);
    const failures = (await q("select task_identifier, reason, issues, payload from job_failures")).rows;
    expect(failures).toEqual([
      {
        task_identifier: "purge_expired_caches",
        reason: "invalid_payload",
        issues: [{ path: "batch_size", code: "invalid_type", message: "Invalid input: expected number, received string" }],
        payload: { batch_size: "lots" },
      },
    ]);
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; task?: string });
    expect(logged.some((l) => l.msg === "job completed" && l.task === "purge_expired_caches")).toBe(true);
    expect(logged.some((l) => l.msg === "invalid payload rejected")).toBe(true);
  });

  it("exits non-zero with a readable message on bad configuration", async () => {
    const { code, output } = await runCli(["run"], {
      ...envFor(t.cfg),
      WORKER_CONCURRENCY: "zero",
      BOTKIT_SCHEMA: "Robert'); drop table students;--",
    });
    expect(code).toBe(2);
    expect(output).toContain("Invalid configuration:");
    expect(output).toMatch(/WORKER_CONCURRENCY: must be a number \(got "zero"\)/);
    expect(output).toMatch(/BOTKIT_SCHEMA: must be a lower-case SQL identifier/);
    expect(output).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });

  it("exits 2 with usage for an unknown command", async () => {
    const { code, output } = await runCli(["frobnicate"], envFor(t.cfg));
    expect(code).toBe(2);
    expect(output).toMatch(/unknown command "frobnicate"/);
  });

  it("on SIGTERM lets a running job finish and exits 0", async () => {
    await seedCache();
    const locker = await t.pg.connect();
    try {
      // The job will block on this lock: it is "running" when SIGTERM arrives.
      await locker.query("begin");
      await locker.query("lock table ai_response_cache in access exclusive mode");
      await q(`select ${t.cfg.BOTKIT_WORKER_SCHEMA}.add_job('purge_expired_caches', '{}'::json)`);
      const cli = startCli(["run"], envFor(t.cfg, { WORKER_SHUTDOWN_TIMEOUT_MS: "20000" }));
      await waitFor(async () => (await jobs()).find((j) => j.locked_at !== null));
      cli.child.kill("SIGTERM");
      await cli.waitForLine(/"msg":"worker stopping"/);
      await new Promise((r) => setTimeout(r, 300));
      await locker.query("commit"); // the job can now finish inside the grace period
      const { code } = await cli.exited;
      expect(code, cli.output()).toBe(0);
      expect(cli.output()).toMatch(/"msg":"worker stopped","pid":\d+,"outcome":"graceful"/);
    } finally {
      await locker.query("rollback").catch(() => {});
      locker.release();
    }
    expect(await jobs()).toEqual([]);
    expect(await cacheKeys()).toEqual(["fresh"]);
  });

  it("on SIGTERM with a job stuck past the grace period, aborts it back to the queue, exits 0, and the job is retried later", async () => {
    await seedCache();
    const locker = await t.pg.connect();
    try {
      await locker.query("begin");
      await locker.query("lock table ai_response_cache in access exclusive mode");
      await q(`select ${t.cfg.BOTKIT_WORKER_SCHEMA}.add_job('purge_expired_caches', '{}'::json)`);
      const cli = startCli(["run"], envFor(t.cfg, { WORKER_SHUTDOWN_TIMEOUT_MS: "1000" }));
      await waitFor(async () => (await jobs()).find((j) => j.locked_at !== null));
      cli.child.kill("SIGTERM");
      const { code } = await cli.exited;
      expect(code, cli.output()).toBe(0);
      expect(cli.output()).toMatch(/"msg":"job failed; will retry".*"message":"job aborted: worker is shutting down"/);
      expect(cli.output()).toMatch(/"outcome":"graceful"/);
      // Not lost: back in the queue, unlocked, with the shutdown recorded.
      const [job] = await jobs();
      expect(job, cli.output()).toMatchObject({ task_identifier: "purge_expired_caches", attempts: 1, locked_at: null });
      expect(job!.last_error).toMatch(/worker is shutting down/);
    } finally {
      await locker.query("rollback").catch(() => {});
      locker.release();
    }
    // A new worker picks it up once it is due (graphile-worker backs off ~e^1 s after a failure).
    await q(`update ${t.cfg.BOTKIT_WORKER_SCHEMA}._private_jobs set run_at = now()`);
    const worker = await startWorker(t.cfg, createLogger({ level: "error", write: () => {} }), { crontab: "" });
    try {
      await waitFor(async () => (await jobs()).length === 0);
    } finally {
      await worker.stop("test done");
    }
    expect(await cacheKeys()).toEqual(["fresh"]);
  });
});
