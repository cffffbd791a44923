import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../units/log.js';

// The shared logger (units/log.ts): quiet by default, JSON lines, component bound on every line.
describe('createLogger', () => {
  let dir = '';
  let n = 0;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-log-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `write` with a logger writing to a fresh file and returns the parsed lines. */
  function capture(
    opts: { level?: string },
    write: (log: ReturnType<typeof createLogger>) => void,
  ): Record<string, unknown>[] {
    const path = join(dir, `log-${n++}`);
    const fd = openSync(path, 'w');
    try {
      write(createLogger('engine', { ...opts, dest: fd }));
    } finally {
      closeSync(fd);
    }
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  it('writes warnings but not info by default', () => {
    const saved = process.env.FLEET_LOG_LEVEL;
    delete process.env.FLEET_LOG_LEVEL;
    try {
      const lines = capture({}, (log) => {
        log.info('routine');
        log.warn({ units: 3 }, 'trouble');
      });
      expect(lines).toHaveLength(1);
      const [line] = lines;
      expect(line).toMatchObject({
        level: 40,
        svc: 'fleet-ts',
        component: 'engine',
        units: 3,
        msg: 'trouble',
      });
      expect(new Date(line?.time as string).toISOString()).toBe(line?.time);
    } finally {
      if (saved !== undefined) process.env.FLEET_LOG_LEVEL = saved;
    }
  });

  it('takes the level from FLEET_LOG_LEVEL, and an explicit level over it', () => {
    const saved = process.env.FLEET_LOG_LEVEL;
    process.env.FLEET_LOG_LEVEL = 'info';
    try {
      expect(capture({}, (log) => log.info('x')).map((l) => l.msg)).toEqual(['x']);
      expect(
        capture({ level: 'debug' }, (log) => {
          log.debug('d');
          log.trace('t');
        }).map((l) => l.msg),
      ).toEqual(['d']);
    } finally {
      if (saved === undefined) delete process.env.FLEET_LOG_LEVEL;
      else process.env.FLEET_LOG_LEVEL = saved;
    }
  });
});
