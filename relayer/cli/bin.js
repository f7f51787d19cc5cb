#!/usr/bin/env node
// The `relayer` executable: the sources are TypeScript, run through tsx's loader so that
// `npx relayer` works straight after `npm ci`, with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
