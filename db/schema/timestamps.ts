/** Every timestamp in the ledger is a `timestamptz`: an instant, whatever the server's zone. */
import { timestamp } from 'drizzle-orm/pg-core';

export function instant(name: string) {
  return timestamp(name, { withTimezone: true, mode: 'date' });
}
