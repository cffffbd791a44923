// journald-friendly logs: under systemd each line carries its syslog priority (`<N>`, sd-daemon(3)) so
// `journalctl -p warning` finds warnings; FLEET_LOG_FORMAT=pretty prints human-readable lines.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, isJournalStream, type LoggerOptions, syslogPriority } from '../../units/log.js';

const dir = mkdtempSync(join(tmpdir(), 'fleet-journal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function capture(opts: LoggerOptions, write: (log: ReturnType<typeof createLogger>) => void): string[] {
  const path = join(dir, `log-${n++}`);
  const fd = openSync(path, 'w');
  try {
    write(createLogger('engine', { level: 'debug', ...opts, dest: fd }));
  } finally {
    closeSync(fd);
  }
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}

describe('journald priorities', () => {
  it('maps pino levels to syslog priorities', () => {
    expect([60, 50, 40, 30, 20, 10].map(syslogPriority)).toEqual([2, 3, 4, 6, 7, 7]);
  });

  it('prefixes every JSON line with <N> when writing to the journal', () => {
    const lines = capture({ journal: true, format: 'json' }, (log) => {
      log.error({ unit: 'a.service', machine: 'm1' }, 'broken');
      log.warn('careful');
      log.info('routine');
      log.debug('detail');
    });
    expect(lines.map((l) => l.slice(0, 3))).toEqual(['<3>', '<4>', '<6>', '<7>']);
    expect(JSON.parse(lines[0]!.slice(3))).toMatchObject({ msg: 'broken', unit: 'a.service', machine: 'm1' });
  });

  it('recognises the journal stream by JOURNAL_STREAM=<dev>:<ino> of the fd, nothing else', () => {
    const path = join(dir, 'stream');
    const fd = openSync(path, 'w');
    try {
      const st = statSync(path, { bigint: true });
      expect(isJournalStream(fd, { JOURNAL_STREAM: `${st.dev}:${st.ino}` })).toBe(true);
      expect(isJournalStream(fd, { JOURNAL_STREAM: `${st.dev}:${st.ino + 1n}` })).toBe(false);
      expect(isJournalStream(fd, {})).toBe(false);
    } finally {
      closeSync(fd);
    }
  });

  it('writes plain JSON (no prefix) when not journald', () => {
    const [line] = capture({ journal: false, format: 'json' }, (log) => log.warn('x'));
    expect(JSON.parse(line!)).toMatchObject({ level: 40, msg: 'x' });
  });

  it('FLEET_LOG_FORMAT=pretty: one readable line per event with level, component and fields', () => {
    const lines = capture({ format: 'pretty', journal: false }, (log) =>
      log.warn({ unit: 'web.service', machine: 'm1' }, 'unit moved'),
    );
    expect(lines[0]).toMatch(/WARN.*unit moved/);
    expect(lines.join('\n')).toContain('unit: "web.service"');
    expect(lines.join('\n')).toContain('component: "engine"');
  });
});
