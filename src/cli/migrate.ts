import { migrateDown, migrateUp, migrationStatus } from "../db/migrate.ts";
import { UsageError, type CommandContext } from "./command.ts";

export async function migrateCommand({ cfg, log, args }: CommandContext): Promise<number> {
  const [sub = "up", ...rest] = args;
  const opts = { db: cfg, log: (msg: string, fields?: Record<string, unknown>) => log.info(msg, fields) };
  switch (sub) {
    case "up": {
      const applied = await migrateUp(opts);
      process.stdout.write(applied.length === 0 ? "migrate: already up to date\n" : `migrate: applied ${applied.map((m) => `${String(m.version).padStart(4, "0")}_${m.name}`).join(", ")}\n`);
      return 0;
    }
    case "down": {
      const arg = rest[0] ?? "1";
      const steps = arg === "all" ? Number.MAX_SAFE_INTEGER : Number(arg);
      if (!Number.isInteger(steps) || steps < 1) throw new UsageError(`down takes a positive number of migrations or "all", got "${arg}"`);
      const rolled = await migrateDown({ ...opts, steps });
      process.stdout.write(rolled.length === 0 ? "migrate: nothing to roll back\n" : `migrate: rolled back ${rolled.map((m) => `${String(m.version).padStart(4, "0")}_${m.name}`).join(", ")}\n`);
      return 0;
    }
    case "status": {
      const statuses = await migrationStatus(opts);
      for (const s of statuses) {
        process.stdout.write(`${String(s.version).padStart(4, "0")}_${s.name.padEnd(32)} ${s.state.padEnd(12)} ${s.appliedAt?.toISOString() ?? ""}\n`);
      }
      return statuses.some((s) => s.state === "changed" || s.state === "missing_file") ? 1 : 0;
    }
    default:
      throw new UsageError(`unknown subcommand "${sub}" (expected up, down [N|all], status)`);
  }
}
