// Issue 14 item 9: the hostile inputs the issue lists, fed to the same checks as the fuzz run
// (hostile-fuzz.test.ts): each unit file is accepted or refused with one line that says where —
// `line L, column C: …` at the offending character, or at the name of the offending option for
// [X-Fleet] problems (before, validation problems had no position at all).
import { describe, expect, it } from 'vitest';
import { BodyError, decodeUnitBody } from '../../api/decode.js';
import { hostCollisionProblem, reservedUnitProblem } from '../../units/host-units.js';
import { validateUnitName } from '../../units/names.js';
import { UNIT_FILE_MAX_BYTES, type UnitParseError } from '../../units/parse.js';
import { checkUnitFile } from '../../units/unit-file-check.js';
import { expectPositionedRefusal } from '../support/unit-refusal.js';

/** The refusal of a unit file (fails the test when the file is accepted). */
function refusal(text: string): UnitParseError {
  try {
    checkUnitFile(text);
  } catch (err) {
    expectPositionedRefusal(err);
    return err as UnitParseError;
  }
  throw new Error('accepted');
}

const unit = (...lines: string[]): string => `${lines.join('\n')}\n`;
const filler = Array.from({ length: 9 }, (_, i) => `Environment=V${i}=x`);

describe('the hostile unit files of issue 14', () => {
  it('an [X-Fleet] conflict is refused at the line of the option that causes it', () => {
    // Lines 1-12: [Service], filler, [X-Fleet] and MachineID=; line 13 holds the MachineOf= it rules out.
    const text = unit('[Service]', ...filler, '[X-Fleet]', 'MachineID=abc', 'MachineOf=db.service');
    const err = refusal(text);
    expect(err.message).toBe('line 13, column 1: MachineID cannot be used with Peers');
    const indented = refusal(unit('[X-Fleet]', 'Conflicts=web*', '  MachineOf=web1.service'));
    expect(indented.message).toBe(
      'line 3, column 3: unresolvable requirements: peer "web1.service" matches conflict "web*"',
    );
    expect(refusal(unit('[X-Fleet]', 'Global=true', 'Replaces=a.service')).line).toBe(3);
    expect(refusal(unit('[X-Fleet]', 'Conflicts=a', '# note', 'MachineMetadata=a=b=c')).message).toMatch(
      /^line 4, column 1: invalid MachineMetadata value "a=b=c"/,
    );
    expect(refusal(unit('[X-Fleet]', 'Schedule=* * * * *', 'StopOnDisconnect=true')).line).toBe(3);
    expect(refusal(unit('[X-Fleet]', 'HealthCheck=/bin/true', 'HealthCheckTimeoutSec=soon')).line).toBe(3);
  });

  it('heavy files parse and validate, or are refused at the position of the limit', () => {
    // 100,000 continuation lines (before: half an hour of blocked loop).
    expect(checkUnitFile(`[Service]\nExecStart=/bin/echo \\\n${'x \\\n'.repeat(100_000)}end\n`)).toHaveLength(
      1,
    );
    // 5,000 Conflicts= × 5,000 MachineOf= (before: about a minute).
    const xfleet = ['[X-Fleet]'];
    for (let i = 0; i < 5000; i++) xfleet.push(`Conflicts=c${i}.service`, `MachineOf=p${i}.service`);
    expect(checkUnitFile(unit(...xfleet))).toHaveLength(10_000);
    // Wildcards × peers beyond the cap: refused at the first MachineOf=.
    const globs = ['[X-Fleet]'];
    for (let i = 0; i < 600; i++) globs.push(`Conflicts=c${i}@*.service`, `MachineOf=p${i}.service`);
    expect(refusal(unit(...globs)).message).toMatch(/^line 3, column 1: too many \[X-Fleet\] combinations/);
    // Over the size cap: refused where the limit is crossed.
    const big = refusal(`[Service]\n${`Environment=V=${'v'.repeat(1000)}\n`.repeat(600)}`);
    expect(big.detail).toContain(`larger than the limit of ${UNIT_FILE_MAX_BYTES} bytes`);
    expect(big.line).toBeGreaterThan(500);
    expect(refusal(`[Service]\nA=1\nB=${'b'.repeat(3000)}\n`).message).toBe(
      'line 3, column 1: line too long (max 2048 bytes)',
    );
  });

  it('malformed files are refused at the offending character', () => {
    expect(refusal('[Service]\nExecStart /bin/true\n').message).toMatch(/^line 2, column 20: missing "="/);
    expect(refusal('\n\n[Service\nA=1').line).toBe(3);
    expect(refusal('[Service] x\n').message).toMatch(/^line 1, column 11: garbage after section header/);
    expect(refusal('[Service]\nA=x \\ \n').message).toMatch(/^line 2, column 5: value of "A" ends in "\\"/);
    for (const text of ['\u0000[S]\nA=\u0000\n', '\ufeff[S]\r\nA=1\r\n', '[S]\nA=\ud800\n', '[S]\rA=1']) {
      try {
        checkUnitFile(text);
      } catch (err) {
        expectPositionedRefusal(err);
      }
    }
  });

  it('names and [Install] hooks that would take over host units are refused in one line', () => {
    for (const name of ['sshd.service', '-.mount', 'systemd-journald.service', 'dbus.socket']) {
      expect(reservedUnitProblem(name)).toMatch(/^unit name "[^"]+" is reserved[^\n]*$/);
    }
    for (const name of ['../x.service', 'a\nb.service', '', `${'a'.repeat(300)}.service`]) {
      expect(validateUnitName(name)).toMatch(/^[^\n]+$/);
    }
    const hooks = checkUnitFile(unit('[Service]', 'ExecStart=/bin/true', '[Install]', 'Alias=sshd.service'));
    expect(hostCollisionProblem('web.service', hooks)).toMatch(/^[^\n]*sshd\.service[^\n]*$/);
  });

  it('API bodies: nesting and garbage are one-line errors with an offset', () => {
    const decode = (body: string): BodyError => {
      try {
        decodeUnitBody(body);
      } catch (err) {
        expect(err).toBeInstanceOf(BodyError);
        return err as BodyError;
      }
      throw new Error('accepted');
    };
    expect(decode(`${'['.repeat(100_000)}${']'.repeat(100_000)}`).message).toMatch(/at offset 32$/);
    expect(decode('{"options": [}').message).not.toContain('\n');
  });
});
