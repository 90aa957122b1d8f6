// The worker as a child process (`node src/cli/main.ts run`), as it runs in production:
// its own heap, its own pools. Peak memory comes from /proc/<pid>/status (VmHWM: the
// kernel's resident-set high-water mark, PDF worker threads included).
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { projectRoot } from "../src/config.ts";
import { cpuSeconds } from "./cpu.ts";

export interface WorkerProcess {
  pid: number;
  /** VmHWM and VmRSS in MB (null when /proc is not readable). */
  memory(): { hwmMb: number; rssMb: number } | null;
  /** User + system CPU seconds used so far (all threads). */
  cpuSeconds(): number | null;
  /** warn/error log lines seen so far (first 20 kept) and their count. */
  problems(): { count: number; first: string[] };
  /** Rejects if the process exits before stop(). */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`. Resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

// Variables the child must not inherit from the shell running the bench (they would
// change what is measured); the bench sets the ones it needs explicitly.
const INHERITED_BLOCKLIST = /^(DATABASE_URL|DB_POOL_SIZE|LOG_LEVEL|CRONTAB_FILE|HTTP_ALLOW_HOSTS|PDF_WORKERS|NODE_OPTIONS)$|^(BOTKIT_|EMBEDDING_|OPENAI_|WORKER_)/;

function readStatusMb(pid: number): { hwmMb: number; rssMb: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    const hwm = kb("VmHWM");
    const rss = kb("VmRSS");
    if (!Number.isFinite(hwm)) return null;
    return { hwmMb: hwm / 1024, rssMb: rss / 1024 };
  } catch {
    return null;
  }
}

export function startWorkerProcess(env: Record<string, string>): WorkerProcess {
  const childEnv: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!INHERITED_BLOCKLIST.test(k)) childEnv[k] = v;
  Object.assign(childEnv, env);
  const child: ChildProcess = spawn(process.execPath, [path.join(projectRoot, "src/cli/main.ts"), "run"], {
    cwd: projectRoot,
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) throw new Error("could not start the worker process");
  const pid = child.pid;
  let count = 0;
  const first: string[] = [];
  let stderrTail = "";
  const onLine = (line: string) => {
    if (line.trim() === "") return;
    count++;
    if (first.length < 20) first.push(line.length > 600 ? `${line.slice(0, 600)}...` : line);
  };
  let buffered = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (d: string) => {
    buffered += d;
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      onLine(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
  });
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (d: string) => {
    stderrTail = (stderrTail + d).slice(-4000);
    for (const line of d.split("\n")) onLine(line);
  });
  let stopping = false;
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on("exit", (code, signal) => {
      if (stopping) resolve(code);
      else reject(new Error(`worker process exited unexpectedly (code ${code}, signal ${signal}); stderr: ${stderrTail.trim() || "(empty)"}`));
    });
  });
  exited.catch(() => {}); // observed by whoever awaits it
  return {
    pid,
    memory: () => readStatusMb(pid),
    cpuSeconds: () => cpuSeconds(pid),
    problems: () => ({ count, first: [...first] }),
    exited,
    async stop(graceMs = 30_000) {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const done = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const code = await done;
      clearTimeout(timer);
      return code;
    },
  };
}
