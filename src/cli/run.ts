import { startWorker } from "../worker/start.ts";
import type { CommandContext } from "./command.ts";

export async function runCommand({ cfg, log }: CommandContext): Promise<number> {
  const worker = await startWorker(cfg, log);
  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        log.warn("second signal: exiting now; running jobs will be retried after their lock expires", { signal });
        process.exit(1);
      }
      // Either way running jobs are finished or back in the queue, so this is a clean exit.
      void worker.stop(`received ${signal}`).then(() => {
        resolve(0);
        // A job stuck in a blocking call may still hold a socket; don't let it keep us alive.
        setTimeout(() => process.exit(0), 500).unref();
      });
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    worker.runner.promise.catch((err: unknown) => {
      log.error("worker pool crashed", { err });
      resolve(1);
    });
  });
}
