import type { Logger } from '../log/logger.js';
import type { NodeMetrics } from '../metrics/node-metrics.js';
import type { NodeConfig } from './config.js';
import type { Shutdown } from './shutdown.js';

/**
 * What every part of a running node shares, built once in startNode and passed explicitly
 * (after ponder's `common`): the config, the one logger (parts take children of it), the
 * metrics and the shutdown path.
 */
export interface Common {
  readonly config: NodeConfig;
  readonly logger: Logger;
  readonly metrics: NodeMetrics;
  readonly shutdown: Shutdown;
}
