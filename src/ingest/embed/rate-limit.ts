// Client-side rate limiting for one embedder instance (tokens/minute and requests/minute).
//
// Design: a sliding-window log, one per budget (tokens, requests), plus
// feedback from the server's x-ratelimit-* headers.
//
// - Before a request is sent, `acquire(tokens)` reserves its estimated tokens
//   and one request. A reservation counts in full while the request is in
//   flight; when it settles it is stamped with the completion time (the latest
//   moment the server can have counted it) and the actual billed tokens
//   (usage.prompt_tokens), and it stops counting one window later.
// - A request is admitted when, for both budgets, (own usage in the window +
//   inferred foreign usage + this request) ≤ limit. Otherwise it waits until
//   enough old entries age out: the wait is computed exactly from the log, so
//   throughput stays at the limit without probing the server with 429s.
//   Waiters are served FIFO, so a large request is not starved by small ones.
// - Why a sliding window and not a token bucket with capacity = limit: a bucket
//   admits up to 2× the limit within any one window (a full burst followed by a
//   window of refill), which a server that enforces a sliding window (and
//   OpenAI's stated "per minute" limits) answers with 429s. A sliding window
//   never exceeds the limit in any window, so it is safe against both a sliding
//   window server and a continuously refilling bucket server (for the latter it
//   is slightly conservative).
// - Limits: the smaller of the configured limit (tpmLimit/rpmLimit) and the
//   one learned from x-ratelimit-limit-{tokens,requests}. Until the first
//   response has been seen, only one request is in flight ("probe"), so an
//   unknown limit is learned before a burst is sent.
// - Other consumers of the same key (other worker processes): the server's
//   remaining count tells how much of the limit is used in total; what our own
//   log cannot explain is recorded as foreign usage that ages out after
//   x-ratelimit-reset-* (capped at one window). The same mechanism absorbs a
//   tokenizer that under-counts compared with the server.
// - 429/503 with Retry-After: `pause(ms)` holds every request of the instance
//   until then (one rejected request means the model of the budget is wrong;
//   sending the others would only collect more 429s).

export interface RateLimiterOptions {
  /** Self-imposed or known tokens-per-window limit. */
  tokenLimit?: number;
  /** Self-imposed or known requests-per-window limit. */
  requestLimit?: number;
  /** The window the limits refer to: 60 s for OpenAI's per-minute limits. */
  windowMs?: number;
  /** Hold back to one request in flight until the first response is observed. Default true. */
  probeFirst?: boolean;
  /** Monotonic clock in ms (injectable for tests). */
  now?: () => number;
}

export interface Reservation {
  readonly tokens: number;
  /** ms the caller waited for the budget. */
  readonly waitedMs: number;
  /**
   * The request got an answer: stamp it with the completion time. `tokens` is
   * what the server billed (usage.prompt_tokens); pass 0 when the server
   * rejected the request (429/5xx: no tokens consumed, the request still
   * counts against the request budget); omit to keep the estimate.
   */
  settle(tokens?: number): void;
}

export interface RateLimitSnapshot {
  tokenLimit: number;
  requestLimit: number;
  tokensInWindow: number;
  requestsInWindow: number;
  foreignTokens: number;
  foreignRequests: number;
  inFlight: number;
  queued: number;
  pausedForMs: number;
  probing: boolean;
}

interface Entry {
  amount: number;
  /** Completion time; Infinity while in flight. */
  at: number;
}

interface Budget {
  configured: number;
  learned: number;
  entries: Entry[];
  foreign: number;
  foreignUntil: number;
}

interface Waiter {
  tokens: number;
  enqueuedAt: number;
  resolve: (r: Reservation) => void;
  reject: (e: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * Parses OpenAI's reset durations: "1s", "6m0s", "20ms", "1m30.5s", "2h3m",
 * also "0.5s" and a bare number of seconds ("12"). Returns ms, or undefined
 * when the value is not a duration.
 */
export function parseDuration(value: string | null | undefined): number | undefined {
  if (value == null) return undefined;
  const s = value.trim();
  if (s === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const unitMs: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, "µs": 0.001, ns: 0.000001 };
  const re = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (m === null) return undefined;
    total += Number(m[1]) * unitMs[m[2]!]!;
    pos = re.lastIndex;
  }
  return total;
}

/**
 * Reads Retry-After in ms: OpenAI's `retry-after-ms` first, then the standard
 * `retry-after` (seconds or an HTTP date). Undefined when absent or unusable.
 */
export function retryAfterMs(headers: Headers | undefined, nowEpochMs = Date.now()): number | undefined {
  if (headers === undefined) return undefined;
  const ms = headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "") {
    const n = Number(ms);
    if (Number.isFinite(n) && n >= 0) return n;
  }
  const ra = headers.get("retry-after");
  if (ra !== null && ra.trim() !== "") {
    const secs = Number(ra);
    if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
    const date = Date.parse(ra);
    if (!Number.isNaN(date)) return Math.max(0, date - nowEpochMs);
  }
  return undefined;
}

function headerNumber(headers: Headers, name: string): number | undefined {
  const v = headers.get(name);
  if (v === null || v.trim() === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function positiveOrInfinity(n: number | undefined, name: string): number {
  if (n === undefined) return Infinity;
  if (!(n > 0)) throw new RangeError(`${name} must be positive, got ${n}`);
  return n;
}

export class RateLimiter {
  readonly windowMs: number;
  private readonly now: () => number;
  private readonly tokens: Budget;
  private readonly requests: Budget;
  private probing: boolean;
  private inFlight = 0;
  private pausedUntil = 0;
  private readonly queue: Waiter[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Infinity;

  constructor(options: RateLimiterOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    if (!(this.windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${this.windowMs}`);
    this.now = options.now ?? (() => performance.now());
    this.tokens = { configured: positiveOrInfinity(options.tokenLimit, "tokenLimit"), learned: Infinity, entries: [], foreign: 0, foreignUntil: 0 };
    this.requests = { configured: positiveOrInfinity(options.requestLimit, "requestLimit"), learned: Infinity, entries: [], foreign: 0, foreignUntil: 0 };
    this.probing = options.probeFirst ?? true;
  }

  /** Effective tokens-per-window limit (Infinity when unknown). */
  get tokenLimit(): number {
    return Math.min(this.tokens.configured, this.tokens.learned);
  }

  get requestLimit(): number {
    return Math.min(this.requests.configured, this.requests.learned);
  }

  /** Waits (FIFO) until the request fits both budgets, then reserves it. */
  acquire(tokens: number, signal?: AbortSignal): Promise<Reservation> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<Reservation>((resolve, reject) => {
      const waiter: Waiter = { tokens, enqueuedAt: this.now(), resolve, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          const i = this.queue.indexOf(waiter);
          if (i >= 0) this.queue.splice(i, 1);
          reject(signal.reason);
          this.pump();
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
      this.pump();
    });
  }

  /** Holds every request until `ms` from now (Retry-After). */
  pause(ms: number): void {
    if (!(ms > 0)) return;
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
    this.pump();
  }

  /** Learns limits and foreign usage from a response's x-ratelimit-* headers (any status). */
  observe(headers: Headers | undefined): void {
    this.probing = false;
    if (headers !== undefined) {
      const now = this.now();
      this.learn(this.tokens, headers, "tokens", now);
      this.learn(this.requests, headers, "requests", now);
    }
    this.pump();
  }

  snapshot(): RateLimitSnapshot {
    const now = this.now();
    return {
      tokenLimit: this.tokenLimit,
      requestLimit: this.requestLimit,
      tokensInWindow: this.ownUsage(this.tokens, now),
      requestsInWindow: this.ownUsage(this.requests, now),
      foreignTokens: this.foreignUsage(this.tokens, now),
      foreignRequests: this.foreignUsage(this.requests, now),
      inFlight: this.inFlight,
      queued: this.queue.length,
      pausedForMs: Math.max(0, this.pausedUntil - now),
      probing: this.probing,
    };
  }

  private learn(b: Budget, headers: Headers, kind: "tokens" | "requests", now: number): void {
    const limit = headerNumber(headers, `x-ratelimit-limit-${kind}`);
    if (limit !== undefined && limit > 0) b.learned = limit;
    const remaining = headerNumber(headers, `x-ratelimit-remaining-${kind}`);
    const effective = Math.min(b.configured, b.learned);
    if (remaining === undefined || !Number.isFinite(effective)) return;
    // Server-side usage relative to the server's own limit (when known), else ours.
    const serverLimit = Number.isFinite(b.learned) ? b.learned : effective;
    const serverUsed = Math.max(0, serverLimit - remaining);
    const foreign = serverUsed - this.ownUsage(b, now);
    if (foreign > 0) {
      const reset = parseDuration(headers.get(`x-ratelimit-reset-${kind}`)) ?? this.windowMs;
      b.foreign = foreign;
      b.foreignUntil = now + Math.min(this.windowMs, Math.max(reset, 1));
    } else {
      b.foreign = 0;
      b.foreignUntil = 0;
    }
  }

  private prune(b: Budget, now: number): void {
    const cutoff = now - this.windowMs;
    if (b.entries.length > 0 && b.entries.some((e) => e.at <= cutoff)) {
      b.entries = b.entries.filter((e) => e.at > cutoff);
    }
  }

  private ownUsage(b: Budget, now: number): number {
    this.prune(b, now);
    let sum = 0;
    for (const e of b.entries) sum += e.amount;
    return sum;
  }

  private foreignUsage(b: Budget, now: number): number {
    return b.foreignUntil > now ? b.foreign : 0;
  }

  /**
   * ms until `amount` more fits into budget `b`, 0 if it fits now, Infinity if
   * it only fits after an in-flight request settles.
   */
  private waitFor(b: Budget, amount: number, now: number): number {
    const limit = Math.min(b.configured, b.learned);
    if (!Number.isFinite(limit)) return 0;
    const own = this.ownUsage(b, now);
    const foreign = this.foreignUsage(b, now);
    const used = own + foreign;
    // A request bigger than the whole limit can only ever go alone.
    const need = Math.min(amount, limit);
    if (used + need <= limit) return 0;
    // Walk future expiries in time order until enough has aged out.
    const events: { at: number; amount: number }[] = [];
    for (const e of b.entries) if (Number.isFinite(e.at)) events.push({ at: e.at + this.windowMs, amount: e.amount });
    if (foreign > 0) events.push({ at: b.foreignUntil, amount: foreign });
    events.sort((x, y) => x.at - y.at);
    let remainingUsed = used;
    for (const ev of events) {
      remainingUsed -= ev.amount;
      if (remainingUsed + need <= limit) return Math.max(1, ev.at - now);
    }
    return Infinity;
  }

  private reserve(w: Waiter, now: number): Reservation {
    const tokenEntry: Entry = { amount: w.tokens, at: Infinity };
    const requestEntry: Entry = { amount: 1, at: Infinity };
    this.tokens.entries.push(tokenEntry);
    this.requests.entries.push(requestEntry);
    this.inFlight++;
    let settled = false;
    return {
      tokens: w.tokens,
      waitedMs: now - w.enqueuedAt,
      settle: (actual?: number) => {
        if (settled) return;
        settled = true;
        const at = this.now();
        tokenEntry.at = at;
        requestEntry.at = at;
        if (actual !== undefined && Number.isFinite(actual) && actual >= 0) tokenEntry.amount = actual;
        this.inFlight--;
        this.pump();
      },
    };
  }

  private pump(): void {
    for (;;) {
      const head = this.queue[0];
      if (head === undefined) {
        this.schedule(Infinity);
        return;
      }
      const now = this.now();
      if (now < this.pausedUntil) {
        this.schedule(this.pausedUntil);
        return;
      }
      if (this.probing && this.inFlight > 0) {
        this.schedule(Infinity); // observe()/settle() pumps again
        return;
      }
      const wait = Math.max(this.waitFor(this.tokens, head.tokens, now), this.waitFor(this.requests, 1, now));
      if (wait > 0) {
        // Infinity: blocked by in-flight requests; settle() pumps again.
        this.schedule(Number.isFinite(wait) ? now + wait : Infinity);
        return;
      }
      this.queue.shift();
      if (head.signal !== undefined && head.onAbort !== undefined) head.signal.removeEventListener("abort", head.onAbort);
      head.resolve(this.reserve(head, now));
    }
  }

  private schedule(at: number): void {
    if (at === this.timerAt) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (!Number.isFinite(at)) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.pump();
      },
      Math.max(1, Math.ceil(at - this.now())),
    );
  }
}
