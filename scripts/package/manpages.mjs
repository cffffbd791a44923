// Man pages generated from the programs' own --help output (so they cannot drift from the programs):
// fleetctl(1) holds the global help and every command's help, fleetd(8) holds fleetd --help.
import { execFileSync } from 'node:child_process';

/** Escapes text for roff: backslashes, and a leading dot or quote that would read as a request. */
const roff = (text) =>
  text
    .replace(/\\/g, '\\e')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');

const help = (bundle, args) => execFileSync(process.execPath, [bundle, ...args], { encoding: 'utf8' });

function page(name, section, version, summary, sections) {
  const date = new Date(0).toISOString().slice(0, 10); // fixed: reproducible packages
  const body = sections.map(([title, text]) => `.SH ${title}\n.nf\n${roff(text.trimEnd())}\n.fi`).join('\n');
  return {
    name,
    section,
    text: `.TH ${name.toUpperCase()} ${section} "${date}" "fleet-ts ${version}" "fleet-ts"\n.SH NAME\n${name} \\- ${summary}\n${body}\n`,
  };
}

/** The man pages, as { name, section, text }. */
export function manPages(bundles, version) {
  const global = help(bundles.fleetctl, ['help']);
  // The COMMANDS: block of the root help, up to its blank line.
  const block = global.slice(global.indexOf('COMMANDS:\n')).split('\n\n')[0] ?? '';
  const commands = [...block.matchAll(/^\t([a-z][a-z-]*)\t/gm)].map((m) => m[1]);
  if (commands.length === 0) throw new Error('no COMMANDS: block in fleetctl help');
  const perCommand = commands.map((c) => help(bundles.fleetctl, ['help', c])).join('\n');
  return [
    page('fleetctl', 1, version, 'command-line client of fleet-ts (fleet-compatible)', [
      ['DESCRIPTION', global],
      ['COMMANDS', perCommand],
      ['SEE ALSO', 'fleetd(8)'],
    ]),
    page('fleetd', 8, version, 'the per-host daemon of fleet-ts', [
      ['DESCRIPTION', help(bundles.fleetd, ['--help'])],
      ['FILES', '/etc/fleet/fleet.conf    configuration (every key documented in the file)\n'],
      ['SEE ALSO', 'fleetctl(1), systemctl(1)'],
    ]),
  ];
}
