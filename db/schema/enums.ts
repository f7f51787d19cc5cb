/** Postgres enums shared by more than one aggregate. */
import { pgEnum } from 'drizzle-orm/pg-core';
import { LEG_STATUSES } from '../leg-state-machine.js';

export const TRANSPORTS = ['layerzero', 'wormhole'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export const transportEnum = pgEnum('transport', TRANSPORTS);
export const legStatusEnum = pgEnum('leg_status', LEG_STATUSES);
