// Errors of the SSH layer. Messages are single lines meant to be printed as they are.

/** A host key was refused or could not be confirmed. */
export class HostKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostKeyError';
  }
}

/** Connecting, authenticating or running a command over SSH failed. */
export class SshError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SshError';
  }
}
