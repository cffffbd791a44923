// The unknown-host question on a terminal. fleetctl asks only when stdin is a TTY; otherwise no
// prompt is passed and an unknown host fails with a one-line error (scripts must never hang).

import { createInterface } from 'node:readline';

/**
 * A prompt for SshOptions.prompt that writes the question to `output` (stderr, so stdout stays
 * clean for command output) and reads one line from `input`; undefined when `input` is not a TTY.
 */
export function terminalPrompt(
  input: NodeJS.ReadableStream = process.stdin,
  output: NodeJS.WritableStream = process.stderr,
): ((question: string) => Promise<string>) | undefined {
  if ((input as { isTTY?: boolean }).isTTY !== true) return undefined;
  return (question: string) =>
    new Promise<string>((resolve) => {
      const rl = createInterface({ input, output, terminal: false });
      let answered = false;
      output.write(question);
      rl.once('line', (line) => {
        answered = true;
        rl.close();
        resolve(line);
      });
      // End of input (Ctrl-D) counts as "no".
      rl.once('close', () => {
        if (!answered) resolve('');
      });
    });
}
