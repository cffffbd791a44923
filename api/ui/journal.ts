// Recent journal lines of a unit for the console. fleetd reads the journal of its own machine with
// journalctl; a unit running on another machine is read by that machine's fleetd, so the page asks
// for it there (docs/console.md explains why fleetd does not hop to other machines itself).

import { execFile } from 'node:child_process';

export interface JournalReader {
  /** This fleetd's machine: the only one whose journal it reads. */
  readonly machineID: string;
  read(unit: string, lines: number): Promise<string[]>;
}

export const MAX_JOURNAL_LINES = 500;

/** journalctl -u UNIT -n LINES, bounded in time and output (a stuck journal cannot stall the API). */
export function journalctlReader(machineID: string, command = 'journalctl'): JournalReader {
  return {
    machineID,
    read: (unit, lines) =>
      new Promise((resolve, reject) => {
        execFile(
          command,
          ['--no-pager', '--output=short-iso', '-n', String(lines), '-u', unit, '--'],
          { timeout: 5_000, maxBuffer: 4 * 1024 * 1024, encoding: 'utf8' },
          (err, stdout, stderr) => {
            if (err) reject(new Error(`journalctl failed: ${(stderr || err.message).trim().split('\n')[0]}`));
            else resolve(stdout.split('\n').filter((l) => l !== ''));
          },
        );
      }),
  };
}
