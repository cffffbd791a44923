// ssh2 can deliver a fast command's reply, output, exit status and close in one network chunk, i.e.
// synchronously right after the exec callback. The exit code must not be lost then.
import { EventEmitter } from 'node:events';
import { Duplex, PassThrough } from 'node:stream';
import type { Client, ClientChannel } from 'ssh2';
import { describe, expect, it } from 'vitest';
import type { SshConnection } from '../../cli/ssh/connect.js';
import { execOn } from '../../cli/ssh/exec.js';

/** Readable side = the remote output; the writable side (remote stdin) swallows writes. */
function fakeChannel(): ClientChannel & Duplex {
  const ch = new Duplex({ read() {}, write: (_c, _e, cb) => cb() });
  const stderr = new PassThrough();
  stderr.end();
  return Object.assign(ch, { stderr }) as unknown as ClientChannel & Duplex;
}

/** A connection whose exec answers everything in the same tick as the callback, as one chunk would. */
function burstConnection(exitCode: number, output: string): SshConnection {
  const client = new EventEmitter() as EventEmitter & { exec: Client['exec'] };
  client.exec = ((_cmd: string, cb: (err: Error | undefined, ch: ClientChannel) => void) => {
    const ch = fakeChannel();
    cb(undefined, ch);
    ch.push(output);
    ch.push(null);
    ch.emit('exit', exitCode);
    setImmediate(() => ch.emit('close'));
    return client;
  }) as unknown as Client['exec'];
  return { client: client as unknown as Client, target: 'burst:22', close: () => undefined };
}

describe('execOn', () => {
  it('keeps the exit code when the whole reply arrives with the exec callback', async () => {
    const out = new PassThrough();
    const err = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => {
      text += d.toString();
    });
    const code = await execOn(burstConnection(7, 'hi\n'), 'exit 7', { stdout: out, stderr: err });
    expect(code).toBe(7);
    expect(text).toBe('hi\n');
  });
});
