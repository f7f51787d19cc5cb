/**
 * The part of a pino logger (relayer/log) the watcher uses: fixed keys in `fields` (`at`,
 * `chain`, `err`, ...). The node passes a child of its logger; tests may pass a recorder.
 */
export interface WatcherLog {
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}
