// fleetctl's SSH layer: `ssh`, remote `status`/`journal`, known_hosts checking and `--tunnel`.
export { type AuthPlan, planAuthentication } from './auth.js';
export { connectSsh, type SshConnection } from './connect.js';
export { HostKeyError, SshError } from './errors.js';
export { type ShellIo, SIGNALLED_EXIT_CODE, type SshIo, sshExec, sshShell } from './exec.js';
export { unknownHostQuestion, verifyHostKey } from './host-key-verifier.js';
export {
  checkHostKey,
  formatKnownHostLine,
  hashHostName,
  hostLookupName,
  keyFingerprint,
  parseKnownHosts,
} from './known-hosts.js';
export {
  DEFAULT_SSH_OPTIONS,
  expandHome,
  type HostPort,
  parseHostPort,
  type SshOptions,
} from './options.js';
export { terminalPrompt } from './prompt.js';
export { type JournalCommandOptions, journalCommand, shellQuote, statusCommand } from './remote-commands.js';
export { openTunnel, type Tunnel } from './tunnel.js';
