// The journal relay's messages (registry/journal-relay.ts): what a machine accepts as a request and
// what its reply keeps when the journal is larger than an etcd value should be.
import { describe, expect, it } from 'vitest';
import {
  decodeJournalReply,
  decodeJournalRequest,
  encodeJournalReply,
  journalReplyKey,
  journalRequestPrefix,
} from '../../registry/journal-relay.js';

const req = (v: object) => decodeJournalRequest(JSON.stringify(v));

describe('journal relay', () => {
  it('keys live under journal/<machine>/ (an agent-only role grants exactly that prefix)', () => {
    expect(journalRequestPrefix('m1')).toBe('journal/m1/request/');
    expect(journalReplyKey('m1', 'abc')).toBe('journal/m1/reply/abc');
  });

  it('accepts a well-formed request and refuses anything else with one line', () => {
    expect(req({ unit: 'web.service', lines: 50, lease: '7587862' })).toEqual({
      unit: 'web.service',
      lines: 50,
      lease: '7587862',
    });
    const problems = [
      decodeJournalRequest('not json'),
      decodeJournalRequest('null'),
      req({ lines: 50, lease: '1' }),
      req({ unit: '../../etc/passwd', lines: 50, lease: '1' }),
      req({ unit: 'web.service', lines: 0, lease: '1' }),
      req({ unit: 'web.service', lines: 501, lease: '1' }),
      req({ unit: 'web.service', lines: 2.5, lease: '1' }),
      req({ unit: 'web.service', lines: 5, lease: 'x' }),
      req({ unit: 'web.service', lines: 5 }),
    ];
    for (const p of problems) {
      expect(p).toHaveProperty('problem');
      expect((p as { problem: string }).problem).not.toContain('\n');
    }
  });

  it('a reply keeps the newest lines that fit, and an error keeps its first line', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i} ${'x'.repeat(90)}`);
    const text = encodeJournalReply({ lines }, 2000);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(2000);
    const back = decodeJournalReply(text) as { lines: string[] };
    expect(back.lines.length).toBeGreaterThan(10);
    expect(back.lines).toEqual(lines.slice(lines.length - back.lines.length));
    expect(decodeJournalReply(encodeJournalReply({ lines: ['a', 'b'] }))).toEqual({ lines: ['a', 'b'] });
    expect(decodeJournalReply(encodeJournalReply({ error: 'journalctl failed: x\nmore' }))).toEqual({
      error: 'journalctl failed: x',
    });
    expect(decodeJournalReply('{"lines":[1]}')).toEqual({ error: 'the journal reply is malformed' });
  });
});
