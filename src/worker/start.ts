// Starts a graphile-worker pool with the project's task list and crontab, and stops it
// gracefully: stop taking jobs, let running jobs finish, abort them after the grace
// period, and hand anything still running back to the queue for a retry.
import { existsSync, readFileSync } from "node:fs";
import { Logger as WorkerLogger, run, type Runner } from "graphile-worker";
import type { Config } from "../config.ts";
import { createPgPool, createSlonikPool } from "../db/pool.ts";
import { createEmbedder } from "../ingest/embed/index.ts";
import { ensureModelIndex, registerModel } from "../ingest/model-index.ts";
import type { Logger } from "../log.ts";
import { buildTaskList, taskDefinitions } from "../tasks/index.ts";
import type { TaskContext, TaskDefinition } from "../tasks/define.ts";

export interface WorkerHandle {
  runner: Runner;
  ctx: TaskContext;
  /** Graceful stop; resolves when the pool and connections are closed. */
  stop(reason: string): Promise<"graceful" | "forced">;
}

function workerLogger(log: Logger): WorkerLogger {
  return new WorkerLogger((scope) => (level, message, meta) => {
    const fields = { scope: { label: scope.label, worker_id: scope.workerId, task: scope.taskIdentifier, job_id: scope.jobId }, ...(meta ?? {}) };
    // Job failures are logged by the task wrapper (define.ts) with the retry plan.
    if (meta?.failure === true) log.debug(message, fields);
    else if (level === "error") log.error(message, fields);
    else if (level === "warning") log.warn(message, fields);
    // graphile-worker's info lines repeat what the task wrapper logs (with the whole job row).
    else log.debug(message, fields);
  });
}

export function readCrontab(file: string): string {
  return existsSync(file) ? readFileSync(file, "utf8") : "";
}

export async function startWorker(
  cfg: Config,
  log: Logger,
  options: { tasks?: TaskDefinition[]; crontab?: string } = {},
): Promise<WorkerHandle> {
  const poolSize = cfg.DB_POOL_SIZE ?? cfg.WORKER_CONCURRENCY + 4;
  const pgPool = createPgPool(cfg, poolSize);
  const db = await createSlonikPool(cfg, poolSize);
  const embedder = createEmbedder(cfg);
  await registerModel(pgPool, embedder);
  await ensureModelIndex(pgPool, cfg.BOTKIT_SCHEMA, embedder.model, embedder.dimensions);
  const ctx: TaskContext = { cfg, log, db, pg: pgPool, embedder };
  const tasks = options.tasks ?? taskDefinitions;
  const abortAfter = Math.floor(cfg.WORKER_SHUTDOWN_TIMEOUT_MS * 0.6);

  const runner = await run({
    pgPool,
    schema: cfg.BOTKIT_WORKER_SCHEMA,
    concurrency: cfg.WORKER_CONCURRENCY,
    pollInterval: cfg.WORKER_POLL_INTERVAL_MS,
    taskList: buildTaskList(ctx, tasks),
    crontab: options.crontab ?? readCrontab(cfg.CRONTAB_FILE),
    noHandleSignals: true,
    logger: workerLogger(log),
    gracefulShutdownAbortTimeout: abortAfter,
    // Batched (delay 0) completion and failure writes are flushed when the pool shuts
    // down; unbatched ones are fire-and-forget and can lose a race with pool.end().
    preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
  });
  log.info("worker started", {
    concurrency: cfg.WORKER_CONCURRENCY,
    schema: cfg.BOTKIT_SCHEMA,
    worker_schema: cfg.BOTKIT_WORKER_SCHEMA,
    tasks: tasks.map((t) => t.name),
    embedder: { provider: embedder.provider, model: embedder.model, dimensions: embedder.dimensions },
  });

  let stopping: Promise<"graceful" | "forced"> | null = null;
  const stop = (reason: string) => {
    stopping ??= (async () => {
      log.info("worker stopping", { reason, timeout_ms: cfg.WORKER_SHUTDOWN_TIMEOUT_MS });
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"forced">((resolve) => {
        timer = setTimeout(() => resolve("forced"), cfg.WORKER_SHUTDOWN_TIMEOUT_MS);
      });
      // Running jobs get until `abortAfter` to finish; then their abort signal fires and
      // the task wrapper fails them back to the queue. "forced" means even that did not
      // complete (e.g. the database is unreachable): their locks expire and another
      // worker retries them.
      const graceful = runner.stop(reason).then(
        () => "graceful" as const,
        (err: unknown) => {
          log.error("graceful shutdown failed", { err });
          return "forced" as const;
        },
      );
      const outcome = await Promise.race([graceful, timedOut]);
      clearTimeout(timer);
      await Promise.race([
        Promise.allSettled([pgPool.end(), db.end()]),
        new Promise((r) => setTimeout(r, 2000).unref()),
      ]);
      log.info("worker stopped", { outcome });
      return outcome;
    })();
    return stopping;
  };
  return { runner, ctx, stop };
}
