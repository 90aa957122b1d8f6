// Benchmark 3: ingestion against a rate-limited OpenAI-compatible provider (the loopback
// fake from test/support), measuring how much of the token budget the embedder's
// client-side limiter actually uses, and whether anything is rejected.
//
// The real limits (1M TPM, 3,000 RPM, 150 ms latency) are scaled to a shorter window so
// the bench takes well under a minute: window W, limits × W/60 s. The embedder must be
// told the same window. startWorker() builds its embedder from Config, which has no
// setting for the window (createOpenAIEmbedder's rateLimitWindowMs), so this bench builds
// the embedder itself and runs the pipeline's ingestDocument() with the worker's
// concurrency through p-limit, as the ingest_document task would.
import pLimit from "p-limit";
import type { Config } from "../src/config.ts";
import { createPgPool, createSlonikPool } from "../src/db/pool.ts";
import { createOpenAIEmbedder, type EmbedderEvent } from "../src/ingest/embed/openai.ts";
import { ensureModelIndex, registerModel } from "../src/ingest/model-index.ts";
import { ingestDocument } from "../src/ingest/pipeline.ts";
import { createTokenCounter } from "../src/ingest/tokens.ts";
import { startFakeOpenAI } from "../test/support/fake-openai.ts";
import { generateInlineTexts } from "./corpus.ts";
import { pipelineDeps } from "./pipeline-deps.ts";

export interface RateLimitOptions {
  /** Real-world limits being simulated. */
  tpm: number;
  rpm: number;
  latencyMs: number;
  windowMs: number;
  /** How many windows' worth of tokens to feed. */
  windows: number;
  concurrency: number;
  storageRoot: string;
}

export interface RateLimitResult {
  model: string;
  dimensions: number;
  windowMs: number;
  tokenLimit: number;
  requestLimit: number;
  documents: number;
  failed: number;
  failures: string[];
  ms: number;
  requests: number;
  tokens: number;
  status429: number;
  byStatus: Record<string, number>;
  retries: number;
  throttledMs: number;
  /** Tokens accepted in each complete window, aligned to the first request. */
  windowTokens: number[];
  /** Mean share of the token limit over the complete windows. */
  share: number;
  minShare: number;
  /** Highest token count in any sliding window (server's view; must not exceed the limit). */
  maxSlidingTokens: number;
  requestShare: number;
}

export async function rateLimitBench(cfg: Config, options: RateLimitOptions): Promise<RateLimitResult> {
  const scale = options.windowMs / 60_000;
  const tokenLimit = Math.round(options.tpm * scale);
  const requestLimit = Math.round(options.rpm * scale);
  const fake = await startFakeOpenAI({ tpm: tokenLimit, rpm: requestLimit, windowMs: options.windowMs, latencyMs: options.latencyMs });
  const pool = createPgPool(cfg, options.concurrency + 4);
  const db = await createSlonikPool(cfg, options.concurrency + 4);
  try {
    let retries = 0;
    let throttledMs = 0;
    const onEvent = (e: EmbedderEvent) => {
      if (e.type === "retry") retries++;
      else if (e.type === "throttle") throttledMs += e.waitMs;
    };
    const model = "text-embedding-3-small";
    const dimensions = 1536;
    const embedder = createOpenAIEmbedder({
      apiKey: fake.apiKey,
      baseURL: fake.url,
      model,
      dimensions,
      concurrency: 4,
      maxRetries: 6,
      tpmLimit: tokenLimit,
      rpmLimit: requestLimit,
      rateLimitWindowMs: options.windowMs,
      onEvent,
    });
    await registerModel(pool, embedder);
    await ensureModelIndex(pool, cfg.BOTKIT_SCHEMA, model, dimensions);

    // Fresh text (a seed the e2e corpus does not use), ~windows + 0.6 windows of tokens:
    // chunk overlap and title context add ~10% to the content's own token count.
    const count = createTokenCounter("cl100k_base");
    const texts: { title: string; content: string }[] = [];
    const target = ((options.windows + 0.6) * tokenLimit) / 1.1;
    let tokens = 0;
    let seed = 0;
    while (tokens < target) {
      const batch = generateInlineTexts({ seed: 777_001 + seed++, targetChars: 200_000, minChars: 4_000, maxChars: 24_000 });
      for (const t of batch) {
        if (tokens >= target) break;
        texts.push(t);
        tokens += count(t.content);
      }
    }
    const inserted = await pool.query<{ id: string }>(
      `insert into documents (title, source_type, content)
       select t, 'markdown', c from unnest($1::text[], $2::text[]) as u(t, c) returning id`,
      [texts.map((t) => t.title), texts.map((t) => t.content)],
    );
    const ids = inserted.rows.map((r) => String(r.id));

    const deps = await pipelineDeps(pool, db, embedder, options.storageRoot);
    const limit = pLimit(options.concurrency);
    const failures: string[] = [];
    const signal = new AbortController().signal;
    const started = performance.now();
    await Promise.all(
      ids.map((id) =>
        limit(async () => {
          try {
            await ingestDocument(deps, id, { signal, attempts: 1, maxAttempts: 1 });
          } catch (err) {
            failures.push(`document ${id}: ${err instanceof Error ? err.message : String(err)}`);
          }
        }),
      ),
    );
    const ms = performance.now() - started;
    const failed = (await pool.query<{ n: number }>("select count(*)::int as n from documents where status <> 'completed'")).rows[0]!.n;

    // Windows as the server counted them: successful requests by arrival time.
    const ok = fake.stats.log.filter((r) => r.status === 200).sort((a, b) => a.at - b.at);
    const all = fake.stats.log.slice().sort((a, b) => a.at - b.at);
    const first = ok[0]?.at ?? 0;
    const last = ok[ok.length - 1]?.at ?? 0;
    const complete = Math.floor((last - first) / options.windowMs);
    const windowTokens = Array.from({ length: complete }, () => 0);
    const windowRequests = Array.from({ length: complete }, () => 0);
    for (const r of ok) {
      const k = Math.floor((r.at - first) / options.windowMs);
      if (k < complete) windowTokens[k]! += r.tokens;
    }
    for (const r of all) {
      const k = Math.floor((r.at - first) / options.windowMs);
      if (k >= 0 && k < complete) windowRequests[k]!++;
    }
    let maxSlidingTokens = 0;
    for (let i = 0, j = 0, sum = 0; i < ok.length; i++) {
      // window [ok[i].at, ok[i].at + W)
      while (j < ok.length && ok[j]!.at < ok[i]!.at + options.windowMs) sum += ok[j++]!.tokens;
      maxSlidingTokens = Math.max(maxSlidingTokens, sum);
      sum -= ok[i]!.tokens;
    }
    const shares = windowTokens.map((t) => t / tokenLimit);
    return {
      model,
      dimensions,
      windowMs: options.windowMs,
      tokenLimit,
      requestLimit,
      documents: ids.length,
      failed,
      failures: failures.slice(0, 5),
      ms,
      requests: fake.stats.requests,
      tokens: fake.stats.tokens,
      status429: fake.stats.rateLimited429,
      byStatus: Object.fromEntries(Object.entries(fake.stats.byStatus).map(([k, v]) => [k, v])),
      retries,
      throttledMs,
      windowTokens,
      share: shares.length > 0 ? shares.reduce((a, b) => a + b, 0) / shares.length : 0,
      minShare: shares.length > 0 ? Math.min(...shares) : 0,
      maxSlidingTokens,
      requestShare: windowRequests.length > 0 ? Math.max(...windowRequests) / requestLimit : 0,
    };
  } finally {
    await fake.close();
    await Promise.allSettled([pool.end(), db.end()]);
  }
}
