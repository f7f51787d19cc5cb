import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RelayerError } from '../../relayer/errors.js';
import { createLogger } from '../../relayer/log/logger.js';
import { nodeConfigSchema } from '../../relayer/node/config.js';

const KEY = `0x${'5e'.repeat(32)}`;
const RPC = 'https://operator:hunter2pass@rpc.example.org/v2/apikey123456';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, destination };
}

describe('the node logger', () => {
  it('never shows a private key or an RPC URL credential, in any field or message', () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'info', format: 'json', destination, secrets: [KEY], urls: [RPC, 'http://127.0.0.1:8545'] });
    const cause = new Error(`HTTP request failed. URL: ${RPC} with key ${KEY.slice(2)}`);
    log.error({ at: 'Test', url: RPC, signer: { privateKey: 'anything' }, err: new RelayerError(`signing with ${KEY} failed`, { cause }) }, `via ${RPC} and postgres://relayer:dbpass99@db:5432/ledger`);
    const text = lines.join('\n');
    for (const secret of ['5e5e5e5e', 'hunter2pass', 'operator:', 'apikey123456', 'dbpass99', 'anything']) expect(text).not.toContain(secret);
    const line = JSON.parse(lines[0] ?? '{}') as { url: string; msg: string; err: { causes: { message: string }[] } };
    // What is not a credential stays readable: the host, and a local URL whole.
    expect(line.url).toContain('rpc.example.org');
    expect(line.err.causes[0]?.message).toContain('rpc.example.org');
    log.info({ rpc: 'http://127.0.0.1:8545' }, 'local');
    expect(lines[1]).toContain('http://127.0.0.1:8545');
  });

  it('writes pretty lines when asked, with the causes under the line', () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'info', format: 'pretty', destination });
    log.warn({ at: 'Worker::legs', job: 'send-0x01', err: new RelayerError('sending failed', { cause: new Error('socket hang up') }) }, 'job failed; retrying');
    expect(lines[0]).toMatch(/WARN {2}\[Worker::legs\] job failed; retrying job=send-0x01/);
    expect(lines).toContain('    caused by Error: socket hang up');
  });
});

describe('the log config', () => {
  const base = { chains: [] };
  it('refuses a bad level, naming the field', () => {
    const result = nodeConfigSchema.safeParse({ ...base, log: { level: 'verbose' } });
    expect(result.success).toBe(false);
    const issue = result.error?.issues.find((i) => i.path.join('.') === 'log.level');
    expect(issue?.message).toBe('must be one of fatal, error, warn, info, debug, trace, silent');
  });
  it('defaults to info, JSON or pretty by the terminal', () => {
    const result = nodeConfigSchema.safeParse(base);
    expect(result.error?.issues.find((i) => i.path[0] === 'log')).toBeUndefined();
  });
});
