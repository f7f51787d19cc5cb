import { instantParam } from './query-params.js';

/** Opaque page cursors: the last row's sort key, base64url JSON, checked on the way back in. */
export interface ShortfallCursor {
  readonly detectedAt: Date;
  readonly id: string;
}

export function encodeCursor(cursor: ShortfallCursor): string {
  return Buffer.from(JSON.stringify({ t: cursor.detectedAt.toISOString(), id: cursor.id })).toString('base64url');
}

/** The cursor, or undefined when it is not one this API issued (its instant one the ledger cannot hold, say). */
export function decodeCursor(text: string): ShortfallCursor | undefined {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as { t?: unknown; id?: unknown } | null;
    if (typeof value?.t !== 'string' || typeof value.id !== 'string' || !/^0x[0-9a-f]{64}$/.test(value.id)) return undefined;
    const detectedAt = instantParam(value.t);
    return detectedAt ? { detectedAt, id: value.id } : undefined;
  } catch {
    return undefined;
  }
}
