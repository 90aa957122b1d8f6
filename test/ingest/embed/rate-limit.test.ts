import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RateLimiter, parseDuration, retryAfterMs } from "../../../src/ingest/embed/rate-limit.ts";
import type { Reservation } from "../../../src/ingest/embed/rate-limit.ts";

describe("parseDuration", () => {
  it.each([
    ["1s", 1000],
    ["6m0s", 360_000],
    ["20ms", 20],
    ["1m30.5s", 90_500],
    ["0.5s", 500],
    ["2h3m", 7_380_000],
    ["7.66s", 7660],
    ["12", 12_000],
    ["250us", 0.25],
  ])("%s → %d ms", (s, ms) => {
    expect(parseDuration(s)).toBeCloseTo(ms, 6);
  });
  it.each(["", "abc", "1x", "s", "1m-3s", "1.2.3s"])("rejects %j", (s) => {
    expect(parseDuration(s)).toBeUndefined();
  });
  it("handles a missing header", () => {
    expect(parseDuration(null)).toBeUndefined();
  });
});

describe("retryAfterMs", () => {
  it("prefers retry-after-ms, then retry-after seconds or date", () => {
    expect(retryAfterMs(new Headers({ "retry-after-ms": "1234.5", "retry-after": "9" }))).toBe(1234.5);
    expect(retryAfterMs(new Headers({ "retry-after": "3" }))).toBe(3000);
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(retryAfterMs(new Headers({ "retry-after": "Wed, 01 Jan 2025 00:00:05 GMT" }), now)).toBe(5000);
    expect(retryAfterMs(new Headers({ "retry-after": "soon" }))).toBeUndefined();
    expect(retryAfterMs(new Headers())).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
});

describe("RateLimiter", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function limiter(opts: ConstructorParameters<typeof RateLimiter>[0] = {}): RateLimiter {
    return new RateLimiter({ now: () => Date.now(), probeFirst: false, ...opts });
  }

  /** Resolves to the time (ms since `start`) at which acquire() was granted. */
  function timed(l: RateLimiter, tokens: number, start: number, signal?: AbortSignal): Promise<{ at: number; r: Reservation }> {
    return l.acquire(tokens, signal).then((r) => ({ at: Date.now() - start, r }));
  }

  it("admits up to the token limit, then waits for the oldest usage to leave the window", async () => {
    const l = limiter({ tokenLimit: 100, windowMs: 1000 });
    const start = Date.now();
    const a = await timed(l, 60, start);
    expect(a.at).toBe(0);
    await vi.advanceTimersByTimeAsync(100);
    a.r.settle(60); // completed at t=100 → counts until t=1100
    const b = await timed(l, 40, start);
    expect(b.at).toBe(100); // 60 + 40 ≤ 100
    b.r.settle(40); // completed at t=100 → counts until t=1100
    let c: { at: number } | undefined;
    void timed(l, 30, start).then((x) => (c = x));
    await vi.advanceTimersByTimeAsync(900);
    expect(c).toBeUndefined(); // t=1000: still 100 tokens in the window
    expect(l.snapshot().queued).toBe(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(c?.at).toBe(1100);
  });

  it("counts in-flight reservations until they settle", async () => {
    const l = limiter({ tokenLimit: 100, windowMs: 1000 });
    const start = Date.now();
    const a = await timed(l, 80, start);
    let b: { at: number; r: Reservation } | undefined;
    void timed(l, 50, start).then((x) => (b = x));
    await vi.advanceTimersByTimeAsync(5000);
    expect(b).toBeUndefined(); // still in flight: never ages out
    a.r.settle(0); // rejected by the server: consumed nothing
    await vi.advanceTimersByTimeAsync(0);
    expect(b?.at).toBe(5000);
  });

  it("enforces the request budget and serves waiters in FIFO order", async () => {
    const l = limiter({ requestLimit: 2, windowMs: 1000 });
    const start = Date.now();
    const order: string[] = [];
    const first = await timed(l, 1, start);
    const second = await timed(l, 1, start);
    first.r.settle();
    second.r.settle();
    const big = timed(l, 1_000_000, start).then((x) => (order.push("big"), x));
    const small = timed(l, 1, start).then((x) => (order.push("small"), x));
    await vi.advanceTimersByTimeAsync(1000);
    const [b, s] = await Promise.all([big, small]);
    expect(order).toEqual(["big", "small"]);
    expect(b.at).toBe(1000);
    expect(s.at).toBe(1000);
  });

  it("lets a request larger than the whole limit go alone when the window is empty", async () => {
    const l = limiter({ tokenLimit: 100, windowMs: 1000 });
    const start = Date.now();
    const a = await timed(l, 500, start);
    expect(a.at).toBe(0);
    a.r.settle(500);
    let b: { at: number } | undefined;
    void timed(l, 10, start).then((x) => (b = x));
    await vi.advanceTimersByTimeAsync(999);
    expect(b).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(b?.at).toBe(1000);
  });

  it("probes with one request until the first response is observed, then learns the limits", async () => {
    const l = new RateLimiter({ now: () => Date.now(), windowMs: 1000 });
    expect(l.snapshot().probing).toBe(true);
    const start = Date.now();
    const a = await timed(l, 10, start);
    let b: { at: number } | undefined;
    void timed(l, 10, start).then((x) => (b = x));
    await vi.advanceTimersByTimeAsync(50);
    expect(b).toBeUndefined();
    l.observe(
      new Headers({
        "x-ratelimit-limit-tokens": "1000",
        "x-ratelimit-limit-requests": "5",
        "x-ratelimit-remaining-tokens": "990",
        "x-ratelimit-remaining-requests": "4",
      }),
    );
    a.r.settle(10);
    await vi.advanceTimersByTimeAsync(0);
    expect(b?.at).toBe(50);
    expect(l.tokenLimit).toBe(1000);
    expect(l.requestLimit).toBe(5);
    expect(l.snapshot().probing).toBe(false);
  });

  it("uses the smaller of the configured and the learned limit", () => {
    const l = limiter({ tokenLimit: 500 });
    l.observe(new Headers({ "x-ratelimit-limit-tokens": "1000" }));
    expect(l.tokenLimit).toBe(500);
    const m = limiter({ tokenLimit: 5000 });
    m.observe(new Headers({ "x-ratelimit-limit-tokens": "1000" }));
    expect(m.tokenLimit).toBe(1000);
  });

  it("infers foreign usage from remaining headers and lets it age out after the reset time", async () => {
    const l = limiter({ windowMs: 60_000 });
    const start = Date.now();
    const a = await timed(l, 100, start);
    // The server saw 100 of ours plus 800 from someone else on the same key.
    l.observe(new Headers({ "x-ratelimit-limit-tokens": "1000", "x-ratelimit-remaining-tokens": "100", "x-ratelimit-reset-tokens": "2s" }));
    a.r.settle(100);
    expect(l.snapshot().foreignTokens).toBe(800);
    let b: { at: number } | undefined;
    void timed(l, 200, start).then((x) => (b = x)); // 100 own + 800 foreign + 200 > 1000
    await vi.advanceTimersByTimeAsync(1999);
    expect(b).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(b?.at).toBe(2000);
    expect(l.snapshot().foreignTokens).toBe(0);
  });

  it("pause() holds every waiter until the pause ends", async () => {
    const l = limiter();
    const start = Date.now();
    l.pause(1500);
    const got: number[] = [];
    void timed(l, 1, start).then((x) => got.push(x.at));
    void timed(l, 1, start).then((x) => got.push(x.at));
    await vi.advanceTimersByTimeAsync(1499);
    expect(got).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(got).toEqual([1500, 1500]);
  });

  it("an aborted waiter leaves the queue and does not block the next", async () => {
    const l = limiter({ tokenLimit: 100, windowMs: 1000 });
    const start = Date.now();
    const a = await timed(l, 100, start);
    a.r.settle(100);
    const ac = new AbortController();
    const aborted = l.acquire(50, ac.signal).catch((e: unknown) => e);
    let c: { at: number } | undefined;
    void timed(l, 50, start).then((x) => (c = x));
    ac.abort(new Error("cancelled"));
    expect(((await aborted) as Error).message).toBe("cancelled");
    expect(l.snapshot().queued).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(c?.at).toBe(1000);
  });
});
