// Running commands and interactive shells over SSH (fleetctl ssh, status, journal).

import type { ClientChannel } from 'ssh2';
import { connectSsh, type SshConnection } from './connect.js';
import { SshError } from './errors.js';
import type { SshOptions } from './options.js';

export interface SshIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Piped to the remote command; when absent the command sees end-of-file on stdin at once. */
  stdin?: NodeJS.ReadableStream;
}

/** Exit code reported when the remote side ended by a signal and gave no exit status (like ssh). */
export const SIGNALLED_EXIT_CODE = 255;

/**
 * Wait for a session channel to finish, copying its output, and resolve with the remote exit code.
 * Output is piped with `end: false`: our stdout must stay open after the channel closes.
 */
function runChannel(conn: SshConnection, channel: ClientChannel, io: SshIo): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let code: number | undefined;
    let signalled = false;
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      if (io.stdin) io.stdin.unpipe(channel);
      conn.client.removeListener('error', onConnError);
      conn.client.removeListener('close', onConnClose);
      if (err) reject(err);
      else resolve(code ?? SIGNALLED_EXIT_CODE);
    };
    const onConnError = (err: Error) =>
      finish(new SshError(`SSH connection to ${conn.target} failed: ${err.message}`));
    const onConnClose = () => {
      if (code === undefined && !signalled) {
        finish(new SshError(`connection to ${conn.target} closed before the remote command finished`));
      } else finish();
    };
    conn.client.on('error', onConnError);
    conn.client.on('close', onConnClose);
    channel.on('exit', (c: number | null, signal?: string) => {
      if (typeof c === 'number') code = c;
      else if (signal) {
        // ssh exits 255 silently here; one line says why the command gave no exit status.
        signalled = true;
        io.stderr.write(`Remote command on ${conn.target} was terminated by signal ${signal}\n`);
      }
    });
    channel.pipe(io.stdout, { end: false });
    channel.stderr.pipe(io.stderr, { end: false });
    channel.on('close', () => {
      if (code === undefined && !signalled) {
        finish(new SshError(`the remote command on ${conn.target} ended without an exit status`));
      } else finish();
    });
    if (io.stdin) io.stdin.pipe(channel);
    else channel.end();
  });
}

/** Run `command` on `host` (`host` or `host:port`) and resolve with its exit code. */
export async function sshExec(host: string, command: string, opts: SshOptions, io: SshIo): Promise<number> {
  const conn = await connectSsh(host, opts);
  try {
    return await execOn(conn, command, io);
  } finally {
    conn.close();
  }
}

/** Runs `command` on an open connection and resolves with its exit code. */
export function execOn(conn: SshConnection, command: string, io: SshIo): Promise<number> {
  // runChannel attaches its listeners inside ssh2's callback, not after an await: ssh2 may parse a
  // fast command's exit-status from the same network chunk right after the exec reply, and an 'exit'
  // event emitted before anyone listens is lost (seen under load as "ended without an exit status").
  return new Promise<number>((resolve, reject) => {
    conn.client.exec(command, (err, ch) => {
      if (err) reject(new SshError(`cannot run command on ${conn.target}: ${err.message}`));
      else runChannel(conn, ch, io).then(resolve, reject);
    });
  });
}

export interface ShellIo extends SshIo {
  stdin: NodeJS.ReadableStream;
}

function isTty(s: NodeJS.ReadableStream | NodeJS.WritableStream): boolean {
  return (s as { isTTY?: boolean }).isTTY === true;
}

/**
 * Interactive login shell on `host`. With a terminal on stdin, a PTY (xterm-256color, the local
 * window size, resized along) is requested and stdin is put in raw mode, restored afterwards.
 */
export async function sshShell(host: string, opts: SshOptions, io?: ShellIo): Promise<number> {
  const stdio: ShellIo = io ?? { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
  const conn = await connectSsh(host, opts);
  const tty = isTty(stdio.stdin);
  const out = stdio.stdout as NodeJS.WriteStream;
  const inp = stdio.stdin as NodeJS.ReadStream;
  let onResize: (() => void) | undefined;
  try {
    const window = tty ? { term: 'xterm-256color', rows: out.rows ?? 24, cols: out.columns ?? 80 } : false;
    // As in sshExec: listen on the channel inside the callback so no early 'exit' is missed.
    const { channel, done } = await new Promise<{ channel: ClientChannel; done: Promise<number> }>(
      (resolve, reject) => {
        const cb = (err: Error | undefined, ch: ClientChannel) =>
          err
            ? reject(new SshError(`cannot open a shell on ${conn.target}: ${err.message}`))
            : resolve({ channel: ch, done: runChannel(conn, ch, stdio) });
        if (window) conn.client.shell(window, cb);
        else conn.client.shell(false, cb);
      },
    );
    if (tty) {
      inp.setRawMode(true);
      if (isTty(stdio.stdout)) {
        onResize = () => channel.setWindow(out.rows ?? 24, out.columns ?? 80, 0, 0);
        out.on('resize', onResize);
      }
    }
    return await done;
  } finally {
    if (onResize) out.removeListener('resize', onResize);
    if (tty) {
      inp.setRawMode(false);
      inp.pause();
    }
    conn.close();
  }
}
