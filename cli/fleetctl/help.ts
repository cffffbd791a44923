// fleet's help template (fleetctl/help.go): NAME, USAGE, VERSION (root only), COMMANDS, DESCRIPTION,
// OPTIONS and GLOBAL OPTIONS, entries TAB-indented and aligned with the tabwriter.
import type { Command } from 'commander';
import { FLEET_TS_VERSION } from '../../units/version.js';
import { COMMAND_HELP } from './help-text.js';
import { envName, GLOBAL_FLAGS } from './options.js';
import { tabwrite } from './tabwriter.js';

function flagLines(cmd: Command): string[] {
  return cmd.options
    .filter((o) => !o.hidden)
    .map(
      (o) =>
        `\t${o.flags}\t${o.description}${o.defaultValue !== undefined ? ` (default ${JSON.stringify(o.defaultValue)})` : ''}`,
    );
}

function globalLines(): string[] {
  return GLOBAL_FLAGS.filter((f) => !f.hidden).map((f) => {
    const value = f.kind === 'bool' ? '' : ` <${f.kind === 'string' ? 'string' : 'number'}>`;
    const def = f.default === '' || f.default === false ? '' : ` (default ${JSON.stringify(f.default)})`;
    return `\t--${f.name}${value}\t${f.description}${def}`;
  });
}

export function fleetHelp(cmd: Command): string {
  const root = cmd.parent === null;
  const out: string[] = [];
  if (root) {
    out.push(
      'NAME:',
      `\tfleetctl - ${cmd.description()}`,
      '',
      'USAGE:',
      '\tfleetctl [global options] <command> [command options] [arguments...]',
      '',
    );
    out.push('VERSION:', `\t${FLEET_TS_VERSION}`, '', 'COMMANDS:');
    const cmds = cmd.commands.filter((c) => !(c as Command & { _hidden?: boolean })._hidden);
    out.push(...cmds.map((c) => `\t${c.name()}\t${c.summary() || c.description()}`).sort());
    out.push('', 'GLOBAL OPTIONS:', ...globalLines(), '');
    out.push(
      'ENVIRONMENT:',
      '\tEvery global option can be given as a variable; a flag on the command line wins.',
      ...GLOBAL_FLAGS.filter((f) => !f.hidden).map((f) => `\t${envName(f.name)}\t--${f.name}`),
      '\tFLEETCTL_API_TOKEN\tbearer token for a TCP API served with api_token',
      '\tFLEETCTL_ETCD_USERNAME\tetcd user (--driver=etcd with etcd authentication)',
      '\tFLEETCTL_ETCD_PASSWORD\tits password',
      '',
    );
    out.push("Run 'fleetctl help <command>' for more information on a command.", '');
  } else {
    out.push('NAME:', `\tfleetctl ${cmd.name()} - ${cmd.summary() || cmd.description()}`, '');
    out.push('USAGE:', `\tfleetctl ${cmd.name()} ${cmd.usage()}`, '');
    const extra = COMMAND_HELP[cmd.name()];
    if (extra) out.push('DESCRIPTION:', `\t${extra.description}`, '', 'EXAMPLE:', `\t${extra.example}`, '');
    else if (cmd.summary() && cmd.description() !== cmd.summary())
      out.push(
        'DESCRIPTION:',
        ...cmd
          .description()
          .split('\n')
          .map((l) => `\t${l}`),
        '',
      );
    const own = flagLines(cmd);
    if (own.length > 0) out.push('OPTIONS:', ...own, '');
    out.push('GLOBAL OPTIONS:', ...globalLines(), '');
  }
  return tabwrite(`${out.join('\n')}\n`);
}
