import type { Logger } from '../log/logger.js';

/** One shutdown path (STYLE.md habit 6): each part registers its close as it is opened. */
export interface Shutdown {
  /** Registers `part`'s close; parts close in the reverse order they were added. */
  add(part: string, close: () => Promise<unknown> | unknown): void;
  /** Closes every part, each even if one before it failed; a failed close is logged with its part. Safe to call twice. */
  run(): Promise<void>;
}

export function createShutdown(log: Logger): Shutdown {
  const parts: { part: string; close: () => Promise<unknown> | unknown }[] = [];
  let running: Promise<void> | undefined;
  return {
    add: (part, close) => void parts.push({ part, close }),
    run: () =>
      (running ??= (async () => {
        for (const { part, close } of parts.reverse()) {
          try {
            await close();
            log.debug({ at: 'Shutdown::run', part }, 'closed');
          } catch (error) {
            log.error({ at: 'Shutdown::run', part, err: error }, 'close failed');
          }
        }
      })()),
  };
}
