/** JSON-schema patterns for what the API accepts as ids. */
export const BYTES32 = '^0x[0-9a-fA-F]{64}$';
export const ADDRESS = '^0x[0-9a-fA-F]{40}$';
/** A LayerZero GUID, or a Wormhole `chain/emitter/sequence` (emitter as 64 hex digits). */
export const MESSAGE_ID = /^(0x[0-9a-fA-F]{64}|\d{1,5}\/[0-9a-fA-F]{64}\/\d{1,20})$/;
