// The console page: routes (#/machines, #/units, #/unit/<name>), a live snapshot from the server-sent
// event stream, and confirmed actions through fleetd's API routes (the ones fleetctl's API driver uses).

import type { ConsoleJournal, ConsoleSnapshot, ConsoleUnitDetail } from '../schema.js';
import { AuthRequired, api, hasToken, readEvents, setToken, unitPath } from './api.js';
import { byId } from './dom.js';
import { type Action, machinesView, type UnitPage, unitsView, unitView } from './views.js';

type Route = { view: 'machines' } | { view: 'units' } | { view: 'unit'; name: string };

let snapshot: ConsoleSnapshot | undefined;
let route: Route = { view: 'units' };
let unitPage: UnitPage | undefined;
let stream: AbortController | undefined;

const main = byId<HTMLElement>('main');
const live = byId<HTMLElement>('live');

function parseRoute(): Route {
  const hash = location.hash;
  if (hash.startsWith('#/unit/')) return { view: 'unit', name: decodeURIComponent(hash.slice(7)) };
  if (hash === '#/machines') return { view: 'machines' };
  return { view: 'units' };
}

function setLive(state: 'live' | 'connecting' | 'offline', text: string): void {
  live.dataset.state = state;
  live.textContent = text;
}

function showError(message: string | undefined): void {
  const box = byId<HTMLElement>('error');
  byId<HTMLElement>('error-text').textContent = message ?? '';
  box.hidden = message === undefined;
}

/** Re-renders the current view, keeping keyboard focus on the same control. */
function render(): void {
  for (const [id, view] of [
    ['nav-machines', 'machines'],
    ['nav-units', 'units'],
  ] as const) {
    const current = route.view === view || (view === 'units' && route.view === 'unit');
    if (current) byId(id).setAttribute('aria-current', 'page');
    else byId(id).removeAttribute('aria-current');
  }
  if (!snapshot) return;
  const focused = (document.activeElement as HTMLElement | null)?.dataset?.key;
  const view =
    route.view === 'machines'
      ? machinesView(snapshot, act)
      : route.view === 'units'
        ? unitsView(snapshot, act)
        : unitView(snapshot, unitPage ?? { name: route.name }, act, (m) => void loadJournal(m));
  main.replaceChildren(view);
  if (focused) main.querySelector<HTMLElement>(`[data-key="${CSS.escape(focused)}"]`)?.focus();
}

function navigate(): void {
  route = parseRoute();
  document.title = `${route.view === 'unit' ? route.name : route.view === 'machines' ? 'Machines' : 'Units'} · fleet-ts`;
  if (route.view === 'unit') {
    unitPage = { name: route.name };
    void loadUnit(route.name);
  } else unitPage = undefined;
  render();
  main.focus();
}

async function loadUnit(name: string): Promise<void> {
  try {
    const d = await api<ConsoleUnitDetail>('GET', `console/${unitPath(name)}`);
    if (unitPage?.name !== name || !d) return;
    unitPage.file = d.file;
    unitPage.journalMachine = d.unit.machineID ?? d.unit.states[0]?.machineID;
  } catch (err) {
    if (unitPage?.name === name) unitPage.fileError = (err as Error).message;
  }
  render();
  await loadJournal(unitPage?.journalMachine);
}

async function loadJournal(machineID: string | undefined): Promise<void> {
  const page = unitPage;
  if (!page) return;
  page.journalMachine = machineID;
  const q = machineID ? `?lines=50&machine=${encodeURIComponent(machineID)}` : '?lines=50';
  try {
    const j = await api<ConsoleJournal>('GET', `console/${unitPath(page.name)}/journal${q}`);
    page.journal = j;
    page.journalError = undefined;
  } catch (err) {
    page.journal = undefined;
    page.journalError = (err as Error).message;
  }
  if (unitPage === page) render();
}

const CONFIRM: Readonly<Record<Action, (t: string) => string>> = {
  start: (t) => `Start ${t}? The cluster places it and starts it.`,
  stop: (t) => `Stop ${t}? It stays loaded on its machine.`,
  restart: (t) => `Restart ${t} on every machine that runs it?`,
  destroy: (t) => `Destroy ${t}? It is stopped and removed from the cluster.`,
  drain: (t) => `Drain machine ${t}? Its units move to other machines, one at a time.`,
  undrain: (t) => `Undrain machine ${t}? The engine may place units on it again.`,
};

function confirmAction(text: string): Promise<boolean> {
  const dialog = byId<HTMLDialogElement>('confirm-dialog');
  const form = byId<HTMLFormElement>('confirm-form');
  byId('confirm-text').textContent = text;
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      form.onsubmit = null;
      byId('confirm-cancel').onclick = null;
      dialog.onclose = null;
      if (dialog.open) dialog.close();
      resolve(ok);
    };
    form.onsubmit = (e) => {
      e.preventDefault();
      done(true);
    };
    byId('confirm-cancel').onclick = () => done(false);
    dialog.onclose = () => done(false);
    dialog.showModal();
    byId('confirm-cancel').focus();
  });
}

/** The API request of each action: the routes fleetctl's API driver uses. */
function request(action: Action, target: string): Promise<unknown> {
  const id = encodeURIComponent(target);
  switch (action) {
    case 'start':
      return api('PUT', unitPath(target), { name: target, desiredState: 'launched' });
    case 'stop':
      return api('PUT', unitPath(target), { name: target, desiredState: 'loaded' });
    case 'restart':
      return api('POST', `${unitPath(target)}/restart`);
    case 'destroy':
      return api('DELETE', unitPath(target));
    case 'drain':
      return api('PUT', `machines/${id}/drain`);
    case 'undrain':
      return api('DELETE', `machines/${id}/drain`);
  }
}

/** Keyboard focus back on the control that opened a dialog (a snapshot may have re-rendered it). */
function refocus(key: string | undefined): void {
  if (key) main.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`)?.focus();
}

async function act(action: Action, target: string): Promise<void> {
  const opener = (document.activeElement as HTMLElement | null)?.dataset?.key;
  const confirmed = await confirmAction(CONFIRM[action](target));
  refocus(opener);
  if (!confirmed) return;
  try {
    await request(action, target);
    showError(undefined);
  } catch (err) {
    if (err instanceof AuthRequired) askToken();
    showError(`${action} ${target} failed: ${(err as Error).message}`);
  }
}

function askToken(): void {
  const dialog = byId<HTMLDialogElement>('token-dialog');
  if (dialog.open) return;
  stream?.abort();
  setLive('offline', 'token needed');
  const problem = byId<HTMLElement>('token-error');
  problem.textContent = hasToken() ? 'fleetd refused this token: check it and enter it again.' : '';
  problem.hidden = !hasToken();
  dialog.showModal();
  byId('token-input').focus();
}

byId<HTMLFormElement>('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = byId<HTMLInputElement>('token-input');
  setToken(input.value.trim());
  input.value = '';
  byId<HTMLDialogElement>('token-dialog').close('entered');
  byId('token-open').hidden = true;
  void connect();
});
// Dismissed (Escape) without a token: a header button asks again, so the page is never left stuck.
byId<HTMLDialogElement>('token-dialog').addEventListener('close', () => {
  const dialog = byId<HTMLDialogElement>('token-dialog');
  if (dialog.returnValue !== 'entered') byId('token-open').hidden = false;
  dialog.returnValue = '';
});
byId('token-open').addEventListener('click', askToken);

/** Follows the event stream, reconnecting after 2 s; a 401 asks for the token. */
async function connect(): Promise<void> {
  stream?.abort();
  const ctl = new AbortController();
  stream = ctl;
  while (!ctl.signal.aborted) {
    setLive('connecting', 'connecting…');
    try {
      await readEvents(
        (s) => {
          snapshot = s;
          setLive('live', 'live');
          render();
        },
        (message) => setLive('offline', `etcd problem: ${message}`),
        ctl.signal,
      );
    } catch (err) {
      if (ctl.signal.aborted) return;
      if (err instanceof AuthRequired) {
        askToken();
        return;
      }
      setLive('offline', `disconnected: ${(err as Error).message}`);
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

byId('error-close').addEventListener('click', () => showError(undefined));
window.addEventListener('hashchange', navigate);
// Single-key shortcuts outside text fields: m = machines, u = units.
document.addEventListener('keydown', (e) => {
  const t = e.target as HTMLElement;
  if (e.altKey || e.ctrlKey || e.metaKey || /^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName)) return;
  if (document.querySelector('dialog[open]')) return;
  if (e.key === 'm') location.hash = '#/machines';
  if (e.key === 'u') location.hash = '#/units';
});
// Heartbeat ages tick between snapshots.
setInterval(() => {
  if (route.view === 'machines') render();
}, 5000);

navigate();
void connect();
