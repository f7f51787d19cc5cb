import { pino, type DestinationStream, type Logger } from 'pino';
import { prettyDestination } from './pretty-lines.js';
import { lineScrubber, urlSecrets } from './redact.js';
import { serializeError } from './serialize-error.js';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** `auto`: pretty lines on a terminal, JSON lines otherwise (a pipe, a file, a log shipper). */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface CreateLoggerParameters {
  readonly level: LogLevel;
  readonly format?: LogFormat;
  /** Where lines go: stdout by default; tests pass a stream to read them. */
  readonly destination?: DestinationStream & { isTTY?: boolean };
  /** Values no line may show: private keys, tokens. */
  readonly secrets?: readonly string[];
  /** URLs whose credentials (user, password, path, query) no line may show; their host stays readable. */
  readonly urls?: readonly string[];
}

/** Fields that hold a secret by their name, wherever a caller puts them. */
const SECRET_FIELDS = ['privateKey', 'relayerKey', 'dvnKey', 'adminToken', 'secrets', 'authorization', 'password'];

/**
 * The one way the node, its workers, the API and the CLI get a logger: pino with the error
 * serializer that keeps the cause chain, secret fields censored by name, and every line
 * scrubbed of the given secrets and URL credentials before it is written, whatever carries them.
 */
export function createLogger(params: CreateLoggerParameters): Logger {
  const scrub = lineScrubber([...(params.secrets ?? []), ...(params.urls ?? []).flatMap(urlSecrets)]);
  const target = params.destination ?? pino.destination({ dest: 1, sync: true });
  const terminal = (params.destination ?? process.stdout).isTTY === true;
  const pretty = params.format === 'pretty' || ((params.format ?? 'auto') === 'auto' && terminal);
  return pino(
    {
      level: params.level,
      serializers: { err: serializeError, error: serializeError },
      redact: { paths: SECRET_FIELDS.flatMap((field) => [field, `*.${field}`]), censor: '[redacted]' },
      hooks: { streamWrite: scrub },
    },
    pretty ? prettyDestination(target) : target,
  );
}

/** A logger that writes nothing: the default of parts started without one (tests, benches). */
export const silentLogger = (): Logger => createLogger({ level: 'silent' });
