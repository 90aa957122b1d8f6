// The thin shell every task shares: validate the payload with zod, run the pipeline,
// record the outcome. Invalid payloads and permanent failures are recorded in
// job_failures and complete the job (retrying them cannot help); anything else
// throws, so graphile-worker retries it with backoff.
import type { JobHelpers, Task } from "graphile-worker";
import type { DatabasePool } from "slonik";
import type pg from "pg";
import { z } from "zod";
import type { Config } from "../config.ts";
import type { Embedder } from "../ingest/types.ts";
import { serializeError, type Logger } from "../log.ts";

export interface TaskContext {
  cfg: Config;
  log: Logger;
  db: DatabasePool;
  pg: pg.Pool;
  /** One per process, so its rate limiter sees all of the process's requests. */
  embedder: Embedder;
}

export interface JobInfo {
  id: string;
  attempts: number;
  maxAttempts: number;
  signal: AbortSignal;
  log: Logger;
}

/** Thrown by pipelines for failures a retry cannot fix (bad input, forbidden path...). */
export class PermanentJobError extends Error {
  override name = "PermanentJobError";
  readonly reason: string;
  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
  }
}

export interface TaskDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  payload: S;
  run: (payload: z.infer<S>, ctx: TaskContext, job: JobInfo) => Promise<void>;
}

export function defineTask<S extends z.ZodType>(def: TaskDefinition<S>): TaskDefinition<S> {
  return def;
}

async function recordFailure(
  ctx: TaskContext,
  task: string,
  jobId: string,
  payload: unknown,
  reason: string,
  error: string,
  issues: unknown,
): Promise<void> {
  await ctx.pg.query(
    `insert into job_failures (task_identifier, job_id, payload, reason, error, issues) values ($1, $2, $3, $4, $5, $6)`,
    [task, jobId, JSON.stringify(payload ?? null), reason, error, issues === undefined ? null : JSON.stringify(issues)],
  );
}

/**
 * Resolves with `work`, or rejects as soon as `signal` aborts (worker shutdown) even if
 * `work` is stuck in a call that cannot be cancelled: the job is then failed back to the
 * queue for a retry instead of holding up shutdown. Pipelines stay idempotent, so work
 * that carries on in the background until the process exits does no harm.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error("job aborted: worker is shutting down"));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error("job aborted: worker is shutting down"));
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

export function toGraphileTask(def: TaskDefinition, ctx: TaskContext): Task {
  return async (rawPayload: unknown, helpers: JobHelpers) => {
    const job = helpers.job;
    const log = ctx.log.child({ task: def.name, job_id: job.id, attempt: job.attempts });
    const started = performance.now();
    const parsed = def.payload.safeParse(rawPayload);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({ path: i.path.map(String).join("."), code: i.code, message: i.message }));
      log.error("invalid payload rejected", { issues });
      await recordFailure(ctx, def.name, job.id, rawPayload, "invalid_payload", z.prettifyError(parsed.error), issues);
      return;
    }
    const signal = helpers.abortSignal ?? new AbortController().signal;
    try {
      await untilAborted(def.run(parsed.data, ctx, { id: job.id, attempts: job.attempts, maxAttempts: job.max_attempts, signal, log }), signal);
      log.info("job completed", { ms: Math.round(performance.now() - started) });
    } catch (err) {
      if (err instanceof PermanentJobError) {
        log.error("job failed permanently", { reason: err.reason, err });
        await recordFailure(ctx, def.name, job.id, rawPayload, err.reason, err.message, undefined);
        return;
      }
      log.warn("job failed; will retry", {
        err: serializeError(err),
        ms: Math.round(performance.now() - started),
        attempts_left: job.max_attempts - job.attempts,
      });
      throw err;
    }
  };
}
