/**
 * One error base for the whole node (after viem's BaseError): a short message for the operator,
 * optional details, and the cause chain kept intact. `retryable` tells queue workers whether
 * another attempt can help; a non-retryable error ends retries and is recorded as final.
 */
export class RelayerError extends Error {
  override name = 'RelayerError';
  readonly shortMessage: string;
  readonly details: string | undefined;
  readonly metaMessages: readonly string[];
  readonly retryable: boolean;

  constructor(
    shortMessage: string,
    options: { cause?: unknown; details?: string; metaMessages?: readonly string[]; retryable?: boolean } = {},
  ) {
    const lines = [shortMessage, ...(options.metaMessages ?? [])];
    if (options.details) lines.push(`Details: ${options.details}`);
    super(lines.join('\n'), options.cause === undefined ? undefined : { cause: options.cause });
    this.shortMessage = shortMessage;
    this.details = options.details;
    this.metaMessages = options.metaMessages ?? [];
    this.retryable = options.retryable ?? false;
  }
}

/** A command line that cannot be run as given: a missing, unknown or malformed argument. */
export class UsageError extends RelayerError {
  override name = 'UsageError';
}

/** A configuration value (file, environment or manifest) that fails validation. */
export class ConfigError extends RelayerError {
  override name = 'ConfigError';
}

/** The message of any thrown value, for logs and one-line CLI errors. */
export function errorMessage(error: unknown): string {
  if (error instanceof RelayerError) return error.shortMessage;
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.name;
  return String(error);
}
