/** The part of a pino logger the watcher uses: fixed keys in `fields` (`at`, `chain`, `err`, ...). */
export interface WatcherLog {
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

export const silentLog: WatcherLog = { info: () => undefined, warn: () => undefined, error: () => undefined };
