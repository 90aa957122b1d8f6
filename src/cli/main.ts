#!/usr/bin/env node
// botkit-worker: one entry point for the worker and its operator commands.
// Exit codes: 0 success, 1 failure, 2 bad usage or configuration.
import { ConfigError, loadConfig, type Config } from "../config.ts";
import { createLogger } from "../log.ts";
import { UsageError, type Command } from "./command.ts";
import { demoCommand } from "./demo.ts";
import { migrateCommand } from "./migrate.ts";
import { runCommand } from "./run.ts";

const commands: Record<string, Command> = {
  run: { summary: "start the worker pool (tasks + crontab) until SIGTERM/SIGINT", run: runCommand },
  migrate: { summary: "migrate up | down [N] | status", run: migrateCommand },
  demo: { summary: "ingest the shipped samples for a demo chatbot and answer a query", run: demoCommand },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: botkit-worker <command> [args]\n\ncommands:\n${lines.join("\n")}\n\nConfiguration comes from environment variables; see README.md.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(usage() + "\n");
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`botkit-worker: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  let cfg: Config;
  try {
    cfg = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`botkit-worker: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const log = createLogger({ level: cfg.LOG_LEVEL, bindings: { pid: process.pid } });
  try {
    return await command.run({ cfg, log, args });
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`botkit-worker ${name}: ${err.message}\n`);
      return 2;
    }
    log.error(`${name} failed`, { err });
    process.stderr.write(`botkit-worker ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
