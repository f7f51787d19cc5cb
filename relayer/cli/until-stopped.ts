/**
 * What ends a long-running command: SIGINT, SIGTERM or SIGHUP, or its parent going away.
 * `npx relayer ...` runs us under npm's exec wrapper, which does not pass a SIGTERM on: killed,
 * it leaves us re-parented and nobody would ever stop our chains. So the parent is watched too:
 * when our parent PID changes, the one who started us is gone, and we stop as if told to.
 */

export type StopReason = NodeJS.Signals | 'parent exited';

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** How often the parent is checked (Linux gives no event for it). */
const PARENT_POLL_MS = 250;

/** Resolves on the first stop signal, or once the parent process has exited. */
export function untilStopped(): Promise<StopReason> {
  return new Promise((resolveStop) => {
    const parent = process.ppid;
    const done = (reason: StopReason): void => {
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
      clearInterval(watch);
      resolveStop(reason);
    };
    const onSignal = (signal: NodeJS.Signals): void => done(signal);
    for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
    const watch = setInterval(() => {
      if (process.ppid !== parent) done('parent exited');
    }, PARENT_POLL_MS);
    // The watch alone must not keep a finished command alive.
    watch.unref();
  });
}

/** The exit code a stop reason gives: 128 + the signal's number, as a shell reports it. */
export function exitCodeFor(reason: StopReason): number {
  return ({ SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as Record<string, number>)[reason] ?? 129;
}
