// CPU time of processes from /proc (Linux): the worker child (all its threads) and the
// PostgreSQL backends serving it, so a run on a small machine shows who used the cores.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type pg from "pg";

let ticks: number | undefined;
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** User + system CPU seconds of a process (all threads), or null when /proc is not readable. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
    return (utime + stime) / clockTicks();
  } catch {
    return null;
  }
}

/**
 * Sums the CPU used by the backends of one application_name between start() and the last
 * sample(): backends seen for the first time count from zero (they were started during the
 * phase); CPU a backend used after its last sample and before it exited is lost.
 */
export class BackendCpu {
  private readonly base = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private readable = true;
  private readonly pool: pg.Pool;
  private readonly applicationName: string;

  constructor(pool: pg.Pool, applicationName: string) {
    this.pool = pool;
    this.applicationName = applicationName;
  }

  private async pids(): Promise<number[]> {
    const res = await this.pool.query<{ pid: number }>(
      "select pid from pg_stat_activity where datname = current_database() and application_name = $1",
      [this.applicationName],
    );
    return res.rows.map((r) => r.pid);
  }

  async start(): Promise<void> {
    this.base.clear();
    this.last.clear();
    for (const pid of await this.pids()) {
      const s = cpuSeconds(pid);
      if (s === null) this.readable = false;
      else {
        this.base.set(pid, s);
        this.last.set(pid, s);
      }
    }
  }

  async sample(): Promise<void> {
    for (const pid of await this.pids()) {
      const s = cpuSeconds(pid);
      if (s === null) continue;
      if (!this.base.has(pid)) this.base.set(pid, 0);
      this.last.set(pid, s);
    }
  }

  /** CPU seconds since start(), or null when backend processes are not readable here. */
  total(): number | null {
    if (!this.readable && this.last.size === 0) return null;
    let sum = 0;
    for (const [pid, s] of this.last) sum += s - (this.base.get(pid) ?? 0);
    return sum;
  }
}
