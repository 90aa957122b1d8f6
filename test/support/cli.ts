// Runs the real CLI (src/cli/main.ts) as a child process on the project's Node.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Config } from "../../src/config.ts";

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const cliPath = path.join(projectRoot, "src/cli/main.ts");

export function envFor(cfg: Config, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/tmp",
    DATABASE_URL: cfg.DATABASE_URL,
    BOTKIT_SCHEMA: cfg.BOTKIT_SCHEMA,
    BOTKIT_WORKER_SCHEMA: cfg.BOTKIT_WORKER_SCHEMA,
    WORKER_POLL_INTERVAL_MS: "100",
    LOG_LEVEL: "info",
    ...extra,
  };
}

export interface CliRun {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLine: (re: RegExp, timeoutMs?: number) => Promise<string>;
}

export function startCli(args: string[], env: Record<string, string>): CliRun {
  const child = spawn(process.execPath, [cliPath, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const waiters: { re: RegExp; resolve: (line: string) => void }[] = [];
  const onData = (buf: Buffer) => {
    out += buf.toString();
    for (const w of [...waiters]) {
      const line = out.split("\n").find((l) => w.re.test(l));
      if (line) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output: () => out,
    exited,
    waitForLine: (re, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const existing = out.split("\n").find((l) => re.test(l));
        if (existing) return resolve(existing);
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}; output so far:\n${out}`)), timeoutMs);
        waiters.push({ re, resolve: (l) => { clearTimeout(timer); resolve(l); } });
      }),
  };
}

export async function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const run = startCli(args, env);
  const { code } = await run.exited;
  return { code, output: run.output() };
}
