// Which credentials fleetctl offers. fleet only used ssh-agent; we offer the agent first and then
// the usual identity files in ~/.ssh, so `fleetctl ssh` works on a machine without an agent too.
// Encrypted keys cannot be used without a passphrase prompt; they are skipped (load them into the
// agent instead), and said so if nothing else works.

import { readFileSync } from 'node:fs';
import type { AgentAuthMethod, PublicKeyAuthMethod } from 'ssh2';
import ssh2 from 'ssh2';
import { SshError } from './errors.js';
import { resolveIdentityFiles, type SshOptions } from './options.js';

export interface AuthPlan {
  readonly methods: readonly (AgentAuthMethod | PublicKeyAuthMethod)[];
  /** The agent socket in use, if any (needed for -A). */
  readonly agentSocket?: string;
  /** Human-readable list of what is offered, for error messages. */
  readonly offered: readonly string[];
}

export function planAuthentication(
  opts: Pick<SshOptions, 'username' | 'identityFiles' | 'agentSocket'>,
): AuthPlan {
  const agentSocket = opts.agentSocket ?? process.env.SSH_AUTH_SOCK ?? '';
  const methods: (AgentAuthMethod | PublicKeyAuthMethod)[] = [];
  const offered: string[] = [];
  const skipped: string[] = [];
  if (agentSocket !== '') {
    methods.push({ type: 'agent', username: opts.username, agent: agentSocket });
    offered.push('ssh-agent');
  }
  const files = resolveIdentityFiles(opts);
  for (const file of files) {
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch (err) {
      skipped.push(`${file} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
      continue;
    }
    const parsed = ssh2.utils.parseKey(data);
    if (parsed instanceof Error) {
      skipped.push(
        `${file} (${/encrypt|passphrase/i.test(parsed.message) ? 'encrypted' : 'not a private key'})`,
      );
      continue;
    }
    methods.push({ type: 'publickey', username: opts.username, key: data });
    offered.push(file);
  }
  if (methods.length === 0) {
    const looked =
      files.length > 0 || opts.identityFiles ? 'no usable identity file' : 'no identity file in ~/.ssh';
    const why = skipped.length > 0 ? ` (skipped: ${skipped.join(', ')})` : '';
    throw new SshError(
      `no SSH credentials: SSH_AUTH_SOCK is not set (start ssh-agent and ssh-add a key) and ${looked}${why}`,
    );
  }
  return { methods, offered, ...(agentSocket !== '' ? { agentSocket } : {}) };
}
