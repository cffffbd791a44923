// The three views, rendered from the latest snapshot (plus, for one unit, its file and journal).

import type { ApiRun } from '../../schema.js';
import type { ConsoleMachine, ConsoleSnapshot, ConsoleUnit } from '../schema.js';
import { ago, type Child, h, short } from './dom.js';

export type Action = 'start' | 'stop' | 'restart' | 'destroy' | 'drain' | 'undrain';
export type Act = (action: Action, target: string) => void;

export interface UnitPage {
  readonly name: string;
  file?: string;
  fileError?: string;
  journal?: { machineID: string; lines: readonly string[] };
  journalError?: string;
  journalMachine?: string;
}

/** Seconds since the snapshot was taken, added to its heartbeat ages. */
const sinceSnapshot = (s: ConsoleSnapshot): number => Math.max(0, (Date.now() - Date.parse(s.at)) / 1000);

function table(caption: string, head: readonly string[], rows: HTMLTableRowElement[], empty: string) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, ...(rows.length ? rows : [h('tr', {}, h('td', { colspan: head.length }, empty))])),
    ),
  );
}

/** A cell with its column name, shown as a label when the table is stacked on narrow screens. */
const cell = (label: string, field: string, ...children: Child[]) =>
  h('td', { 'data-label': label, 'data-field': field }, ...children);

const button = (label: string, action: Action, target: string, act: Act, danger = false) =>
  h(
    'button',
    {
      type: 'button',
      class: danger ? 'danger' : undefined,
      'data-action': action,
      'data-key': `${action}:${target}`,
      'aria-label': `${label} ${target}`,
      onclick: () => act(action, target),
    },
    label,
  );

function machineLabel(s: ConsoleSnapshot, id: string | undefined): string {
  if (!id) return '-';
  const m = s.machines.find((x) => x.id === id);
  return m ? `${short(id)}/${m.primaryIP}` : short(id);
}

export function machinesView(s: ConsoleSnapshot, act: Act): HTMLElement {
  const extra = sinceSnapshot(s);
  const rows = s.machines.map((m: ConsoleMachine) =>
    h(
      'tr',
      { 'data-machine': m.id },
      cell('Machine', 'id', h('code', { title: m.id }, short(m.id))),
      cell('IP', 'ip', m.primaryIP || '-'),
      cell(
        'Metadata',
        'metadata',
        Object.entries(m.metadata)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ') || '-',
      ),
      cell('Version', 'version', m.version || '-'),
      cell('Leader', 'leader', m.leader ? 'leader' : '-'),
      cell('Drained', 'drained', m.drained ? h('span', { class: 'badge warn' }, 'drained') : '-'),
      cell('Units', 'units', m.units),
      cell(
        'Heartbeat',
        'heartbeat',
        m.heartbeatAge === undefined ? '-' : `${ago(m.heartbeatAge + extra)} ago`,
      ),
      cell(
        'Actions',
        'actions',
        m.drained ? button('Undrain', 'undrain', m.id, act) : button('Drain', 'drain', m.id, act, true),
      ),
    ),
  );
  return h(
    'section',
    { 'aria-labelledby': 'view-title' },
    h('h1', { id: 'view-title' }, 'Machines'),
    table(
      `${s.machines.length} machine(s)`,
      ['Machine', 'IP', 'Metadata', 'Version', 'Leader', 'Drained', 'Units', 'Heartbeat', 'Actions'],
      rows,
      'No machines are registered.',
    ),
  );
}

const stateBadge = (state: string | undefined) =>
  h('span', { class: `badge state-${state ?? 'none'}` }, state ?? '-');

function unitActions(u: ConsoleUnit, act: Act): HTMLElement {
  return h(
    'div',
    { class: 'actions' },
    button('Start', 'start', u.name, act),
    button('Stop', 'stop', u.name, act),
    button('Restart', 'restart', u.name, act),
    button('Destroy', 'destroy', u.name, act, true),
  );
}

function whyOrCron(u: ConsoleUnit): Child {
  if (u.reason) return h('span', { class: 'reason' }, u.reason);
  if (u.schedule) {
    const last = u.lastRuns?.[0];
    return `cron ${u.schedule}${u.nextTick ? `, next ${u.nextTick}` : ''}${last ? `, last ${last.status ?? '?'}` : ''}`;
  }
  return '';
}

/** The active state systemd reported on the unit's machine (or how many machines run a global). */
function activeOf(u: ConsoleUnit): string {
  if (u.global) {
    const active = u.states.filter((st) => st.active === 'active').length;
    return `${active}/${u.states.length} active`;
  }
  const st = u.states.find((x) => x.machineID === u.machineID);
  return st ? `${st.active} (${st.sub})` : '-';
}

export function unitsView(s: ConsoleSnapshot, act: Act): HTMLElement {
  const rows = s.units.map((u) =>
    h(
      'tr',
      { 'data-unit': u.name },
      cell(
        'Unit',
        'name',
        h('a', { href: `#/unit/${encodeURIComponent(u.name)}`, 'data-key': `open:${u.name}` }, u.name),
      ),
      cell('Desired', 'desired', u.desiredState),
      cell('Current', 'current', u.global ? 'global' : stateBadge(u.currentState)),
      cell('Active', 'active', activeOf(u)),
      cell('Machine', 'machine', u.global ? `all (${u.states.length})` : machineLabel(s, u.machineID)),
      cell('Hash', 'hash', h('code', {}, short(u.hash, 7))),
      cell('Reason / cron', 'reason', whyOrCron(u)),
      cell('Actions', 'actions', unitActions(u, act)),
    ),
  );
  return h(
    'section',
    { 'aria-labelledby': 'view-title' },
    h('h1', { id: 'view-title' }, 'Units'),
    table(
      `${s.units.length} unit(s)`,
      ['Unit', 'Desired', 'Current', 'Active', 'Machine', 'Hash', 'Reason / cron', 'Actions'],
      rows,
      'No units. Submit one with fleetctl submit or start.',
    ),
  );
}

function runsTable(runs: readonly ApiRun[]): HTMLElement {
  return table(
    'Last runs',
    ['Tick', 'Machine', 'Started', 'Ended', 'Result'],
    runs.map((r) =>
      h(
        'tr',
        {},
        cell('Tick', 'tick', r.tick ?? '-'),
        cell('Machine', 'machine', short(r.machineID)),
        cell('Started', 'started', r.startedAt ?? '-'),
        cell('Ended', 'ended', r.endedAt ?? '-'),
        cell('Result', 'result', `${r.status ?? '-'}${r.reason ? `: ${r.reason}` : ''}`),
      ),
    ),
    'No runs yet.',
  );
}

export function unitView(
  s: ConsoleSnapshot,
  page: UnitPage,
  act: Act,
  loadJournal: (machineID?: string) => void,
): HTMLElement {
  const u = s.units.find((x) => x.name === page.name);
  const title = h('h1', { id: 'view-title' }, page.name);
  if (!u)
    return h(
      'section',
      { 'aria-labelledby': 'view-title' },
      title,
      h('p', {}, 'This unit does not exist (any more).'),
    );
  const facts: [string, Child][] = [
    ['Desired state', u.desiredState],
    ['Current state', u.global ? 'global' : stateBadge(u.currentState)],
    ['Machine', u.global ? 'every matching machine' : machineLabel(s, u.machineID)],
    ['Hash', h('code', {}, u.hash)],
  ];
  if (u.reason) facts.push(['Not placed because', h('span', { class: 'reason' }, u.reason)]);
  if (u.schedule) facts.push(['Schedule', u.schedule], ['Next tick', u.nextTick ?? '-']);
  const states = u.states.map((st) =>
    h(
      'tr',
      { 'data-state-machine': st.machineID },
      cell('Machine', 'machine', machineLabel(s, st.machineID)),
      cell('Load', 'load', st.load),
      cell('Active', 'active', stateBadge(st.active)),
      cell('Sub', 'sub', st.sub),
      cell('Hash', 'hash', h('code', {}, short(st.hash, 7))),
      cell('Health', 'health', st.health ?? '-'),
    ),
  );
  const journalMachines = u.global ? u.states.map((st) => st.machineID) : u.machineID ? [u.machineID] : [];
  const picker =
    journalMachines.length > 1
      ? h(
          'label',
          {},
          'Machine ',
          h(
            'select',
            {
              id: 'journal-machine',
              onchange: (e: Event) => loadJournal((e.target as HTMLSelectElement).value),
            },
            ...journalMachines.map((id) =>
              h('option', { value: id, selected: id === page.journalMachine }, machineLabel(s, id)),
            ),
          ),
        )
      : null;
  return h(
    'section',
    { 'aria-labelledby': 'view-title' },
    h('p', {}, h('a', { href: '#/units' }, '← Units')),
    title,
    h(
      'dl',
      { class: 'facts' },
      ...facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', { 'data-fact': k }, v)]),
    ),
    unitActions(u, act),
    h('h2', {}, 'States'),
    table(
      'Reported by each machine',
      ['Machine', 'Load', 'Active', 'Sub', 'Hash', 'Health'],
      states,
      'No machine has reported this unit.',
    ),
    u.lastRuns ? h('div', {}, h('h2', {}, 'Cron'), runsTable(u.lastRuns)) : null,
    h('h2', {}, 'Journal'),
    h(
      'div',
      { class: 'actions' },
      picker,
      h(
        'button',
        {
          type: 'button',
          id: 'journal-refresh',
          'data-key': 'journal-refresh',
          onclick: () => loadJournal(page.journalMachine),
        },
        'Refresh journal',
      ),
    ),
    page.journalError
      ? h('p', { class: 'error-text', role: 'status' }, page.journalError)
      : h(
          'div',
          {},
          page.journal
            ? h('p', { class: 'muted' }, `Read on machine ${machineLabel(s, page.journal.machineID)}`)
            : null,
          h(
            'pre',
            { id: 'journal', tabindex: 0, 'aria-label': 'Journal', 'data-machine': page.journal?.machineID },
            page.journal ? page.journal.lines.join('\n') || '(no entries)' : 'Loading…',
          ),
        ),
    h('h2', {}, 'Unit file'),
    page.fileError
      ? h('p', { class: 'error-text' }, page.fileError)
      : h('pre', { id: 'unit-file', tabindex: 0, 'aria-label': 'Unit file' }, page.file ?? 'Loading…'),
  );
}
