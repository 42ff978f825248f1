/**
 * The loop behind each background runner (lease-jobs.ts, reminders): run `tick` — claim and do one piece
 * of work — again at once while it finds work or was woken meanwhile, otherwise wait `pollMs` (or until
 * woken: a request in this process just queued something). Errors (the database away) are logged and the
 * loop waits a poll interval. stop() lets the current tick finish (the tick sees isStopping() and hands
 * its work back) and resolves when the loop is idle.
 */
import { logger } from './logger';

export type PollingRunner = { stop(): Promise<void>; wake(): void };

export function startPollingRunner(name: string, pollMs: number, tick: (isStopping: () => boolean) => Promise<boolean>): PollingRunner {
  let stopping = false;
  let poked = false;
  let wakeUp: (() => void) | undefined;
  const isStopping = () => stopping;
  const wake = () => {
    poked = true;
    wakeUp?.();
  };
  const loop = (async () => {
    while (!stopping) {
      poked = false;
      let worked = false;
      try {
        worked = await tick(isStopping);
      } catch (err) {
        logger.error({ err, runner: name }, 'background runner error (database unavailable?); trying again after the poll interval');
      }
      if (worked || poked || stopping) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        timer.unref();
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wakeUp = undefined;
    }
  })();
  return {
    wake,
    async stop() {
      stopping = true;
      wakeUp?.();
      await loop;
    },
  };
}
