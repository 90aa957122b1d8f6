import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";

export interface CommandContext {
  cfg: Config;
  log: Logger;
  args: string[];
}

export type Command = { summary: string; run: (c: CommandContext) => Promise<number> };

/** Bad arguments: printed without a stack trace, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}
