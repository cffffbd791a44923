// Checks the host key a server offers against the known_hosts file, asks about unknown hosts and
// records accepted keys. The decision itself is the pure checkHostKey(); this module is the file
// and prompt shell around it.

import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errorMessage } from '../../units/common.js';
import { HostKeyError } from './errors.js';
import {
  checkHostKey,
  displayKeyType,
  formatKnownHostLine,
  hostKeyAlgorithmsFor,
  hostLookupName,
  keyFingerprint,
  keyTypeOfBlob,
  knownKeyTypes,
  parseKnownHosts,
} from './known-hosts.js';
import { expandHome, type SshOptions } from './options.js';

type VerifierOptions = Pick<SshOptions, 'strictHostKeyChecking' | 'knownHostsFile' | 'prompt' | 'notice'>;

async function readKnownHostsText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new HostKeyError(`cannot read known hosts file ${file}: ${errorMessage(err)}`);
  }
}

/** The unknown-host question, worded like fleet and OpenSSH. */
export function unknownHostQuestion(name: string, blob: Buffer): string {
  const type = displayKeyType(keyTypeOfBlob(blob) ?? 'unknown');
  return (
    `The authenticity of host '${name}' can't be established.\n` +
    `${type} key fingerprint is ${keyFingerprint(blob)}.\n` +
    'Are you sure you want to continue connecting (yes/no)? '
  );
}

/** Append one line, creating directories 0700 and the file 0644, never clobbering what is there. */
async function appendKnownHost(file: string, line: string, existing: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const sep = existing === '' || existing.endsWith('\n') ? '' : '\n';
  await appendFile(file, `${sep}${line}\n`, { mode: 0o644 });
}

/**
 * Host key algorithms to prefer when connecting to host:port: those of the key types known_hosts
 * records for it (none when checking is off or the host is not recorded).
 */
export async function preferredHostKeyAlgorithms(
  host: string,
  port: number,
  opts: Pick<SshOptions, 'strictHostKeyChecking' | 'knownHostsFile'>,
): Promise<string[]> {
  if (!opts.strictHostKeyChecking) return [];
  const text = await readKnownHostsText(expandHome(opts.knownHostsFile)).catch(() => '');
  return hostKeyAlgorithmsFor(knownKeyTypes(parseKnownHosts(text).entries, host, port));
}

/**
 * Resolves when the key `blob` offered by host:port may be trusted; throws HostKeyError otherwise.
 * With strict checking off nothing is read or written (fleet ignores the file then, too).
 */
export async function verifyHostKey(
  host: string,
  port: number,
  blob: Buffer,
  opts: VerifierOptions,
): Promise<void> {
  if (!opts.strictHostKeyChecking) return;
  const notice = opts.notice ?? ((m: string) => process.stderr.write(`${m}\n`));
  const file = expandHome(opts.knownHostsFile);
  const name = hostLookupName(host, port);
  const text = await readKnownHostsText(file);
  const { entries, problems } = parseKnownHosts(text);
  for (const p of problems) notice(`Warning: ignoring ${file}:${p.line}: ${p.reason}`);
  const verdict = checkHostKey(entries, host, port, blob);
  const type = displayKeyType(keyTypeOfBlob(blob) ?? 'unknown');
  const fp = keyFingerprint(blob);
  switch (verdict.kind) {
    case 'known':
      return;
    case 'revoked':
      throw new HostKeyError(
        `Host key verification failed for ${name}: the offered ${type} key ${fp} is marked @revoked in ${file}:${verdict.entry.line}`,
      );
    case 'changed': {
      const recorded = verdict.typeChanged
        ? `records only a ${displayKeyType(verdict.entry.keyType)} key for it`
        : 'records a different key';
      throw new HostKeyError(
        `Host key verification failed for ${name}: REMOTE HOST IDENTIFICATION HAS CHANGED: it offered ${type} key ${fp} but ${file}:${verdict.entry.line} ${recorded} (possible man-in-the-middle attack; remove that line if the change is expected)`,
      );
    }
    case 'unknown': {
      if (!opts.prompt) {
        throw new HostKeyError(
          `Host key verification failed for ${name}: the authenticity of the host can't be established (${type} key fingerprint is ${fp}) and there is no terminal to confirm it; add its key to ${file} or use --strict-host-key-checking=false`,
        );
      }
      const answer = (await opts.prompt(unknownHostQuestion(name, blob))).trim().toLowerCase();
      if (answer !== 'yes' && answer !== 'y') {
        throw new HostKeyError(
          `Host key verification failed for ${name}: the ${type} key ${fp} was not accepted`,
        );
      }
      try {
        await appendKnownHost(file, formatKnownHostLine(host, port, blob), text);
      } catch (err) {
        throw new HostKeyError(`cannot record the host key of ${name} in ${file}: ${errorMessage(err)}`);
      }
      notice(`Warning: Permanently added '${name}' (${type}) to the list of known hosts.`);
      return;
    }
  }
}
