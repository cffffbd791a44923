// Remote command quoting and SSH option helpers.
import { execFileSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expandHome, parseHostPort, resolveIdentityFiles } from '../../cli/ssh/options.js';
import { terminalPrompt } from '../../cli/ssh/prompt.js';
import { journalCommand, shellCommand, shellQuote, statusCommand } from '../../cli/ssh/remote-commands.js';

describe('remote commands', () => {
  it('runs systemctl status -l with the unit single-quoted', () => {
    expect(statusCommand('hello.service')).toBe("systemctl status -l -- 'hello.service'");
    expect(statusCommand('hello@1.service')).toBe("systemctl status -l -- 'hello@1.service'");
    // A name starting with '-' stays a name (issue 14): without '--' systemctl read '-H.service' as -H.
    expect(statusCommand('-H.service')).toBe("systemctl status -l -- '-H.service'");
  });

  it('runs journalctl with fleet arguments', () => {
    expect(journalCommand('hello.service', { lines: 10, follow: false, output: 'short', sudo: false })).toBe(
      "journalctl --unit 'hello.service' --no-pager -n 10 --output 'short'",
    );
    expect(journalCommand('a.service', { lines: 3, follow: true, output: 'json', sudo: true })).toBe(
      "sudo journalctl --unit 'a.service' --no-pager -n 3 --output 'json' -f",
    );
  });

  it('rejects a nonsensical line count', () => {
    expect(() =>
      journalCommand('a.service', { lines: -1, follow: false, output: 'short', sudo: false }),
    ).toThrow('invalid number of journal lines: -1');
  });

  it('neutralises shell metacharacters in unit names', () => {
    expect(statusCommand("x'; rm -rf /; '.service")).toBe(
      `systemctl status -l -- 'x'\\''; rm -rf /; '\\''.service'`,
    );
  });

  it('a quoted argument reaches a real POSIX shell unchanged, whatever it contains', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: 'grapheme', minLength: 0, maxLength: 20 }).filter((s) => !s.includes('\0')),
          { minLength: 1, maxLength: 3 },
        ),
        (args) => {
          const out = execFileSync('/bin/sh', ['-c', `printf '%s\\0' ${shellCommand(args)}`], {
            encoding: 'utf8',
          });
          expect(out).toBe(args.map((a) => `${a}\0`).join(''));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses NUL bytes, which no shell argument can hold', () => {
    expect(() => shellQuote('a\0b')).toThrow('NUL');
  });
});

describe('SSH addresses', () => {
  it('uses the default port only when the address has none', () => {
    expect(parseHostPort('10.0.0.1', 22)).toEqual({ host: '10.0.0.1', port: 22 });
    expect(parseHostPort('10.0.0.1:2222', 22)).toEqual({ host: '10.0.0.1', port: 2222 });
    expect(parseHostPort('bastion.example', 22)).toEqual({ host: 'bastion.example', port: 22 });
    expect(parseHostPort('[fd00::1]:2200', 22)).toEqual({ host: 'fd00::1', port: 2200 });
    expect(parseHostPort('fd00::1', 2022)).toEqual({ host: 'fd00::1', port: 2022 });
  });

  it('rejects bad addresses with one line', () => {
    expect(() => parseHostPort('host:99999', 22)).toThrow('invalid port in SSH address "host:99999"');
    expect(() => parseHostPort('host:ssh', 22)).toThrow('invalid port in SSH address "host:ssh"');
    expect(() => parseHostPort(':22', 22)).toThrow('missing host');
    expect(() => parseHostPort('', 22)).toThrow('empty SSH address');
  });

  it('expands ~ in paths like fleet', () => {
    expect(expandHome('~/.fleetctl/known_hosts', '/home/u')).toBe('/home/u/.fleetctl/known_hosts');
    expect(expandHome('~', '/home/u')).toBe('/home/u');
    expect(expandHome('/etc/known_hosts', '/home/u')).toBe('/etc/known_hosts');
    expect(expandHome('~root/x', '/home/u')).toBe('/root/x');
    expect(() => expandHome('~no-such-user-xyz/k', '/home/u')).toThrow('unknown user no-such-user-xyz');
  });

  it('offers only identity files that exist under ~/.ssh by default', () => {
    expect(resolveIdentityFiles({}, '/nonexistent-home')).toEqual([]);
    expect(resolveIdentityFiles({ identityFiles: ['~/k'] }, '/h')).toEqual(['/h/k']);
  });
});

describe('terminalPrompt', () => {
  it('is absent when stdin is not a terminal, so unknown hosts fail instead of hanging', () => {
    expect(terminalPrompt(new PassThrough(), new PassThrough())).toBeUndefined();
  });

  it('writes the question and resolves with the typed line; end of input means no', async () => {
    const input = Object.assign(new PassThrough(), { isTTY: true });
    const output = new PassThrough();
    let shown = '';
    output.on('data', (d: Buffer) => {
      shown += d.toString();
    });
    const prompt = terminalPrompt(input, output)!;
    const answer = prompt('Continue (yes/no)? ');
    input.write('yes\n');
    expect(await answer).toBe('yes');
    expect(shown).toBe('Continue (yes/no)? ');
    const second = prompt('Again? ');
    input.end();
    expect(await second).toBe('');
  });
});
