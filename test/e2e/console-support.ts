/// <reference lib="dom" />
// The web console e2e's cluster and browser (test/e2e/console.test.ts): two real systemd machines running
// fleetd, machine a also with a loopback TCP listener (api_listen + api_token); host ports forwarding to
// a's unix socket (as `ssh -L` would) and to that loopback listener (as `ssh -L` to 127.0.0.1 would);
// headless Debian chromium driven by playwright-core. Helpers read the page and what fleetctl shows.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { ensureBuilt, fleetctlOk, PROJECT, until } from '../support/fleet-e2e.js';
import { type Cluster, createCluster } from '../support/nspawn.js';

export const ARTIFACTS = join(PROJECT, 'test/e2e/artifacts');
export const TOKEN = 'console-e2e-token-0123456789abcdef';
const TCP_PORT = 7080;

export interface ConsoleRig {
  readonly cluster: Cluster;
  readonly browser: Browser;
  /** The console through machine a's unix socket (no token). */
  readonly url: string;
  /** The console through machine a's api_listen (asks for the token). */
  readonly tokenUrl: string;
  /** Unit files written on the host for fleetctl. */
  unitFile(name: string): string;
  close(): Promise<void>;
}

/** A host port whose connections `connect` forwards somewhere. */
async function forward(connect: (client: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(connect);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr ? addr.port : 0 };
}

export async function startConsoleRig(): Promise<ConsoleRig> {
  ensureBuilt();
  mkdirSync(ARTIFACTS, { recursive: true });
  const unitDir = mkdtempSync(join(tmpdir(), 'fleet-ts-console-'));
  const unit = (desc: string, meta: string) =>
    `[Unit]\nDescription=${desc}\n\n[Service]\nExecStart=/bin/sleep infinity\n\n[X-Fleet]\nMachineMetadata=${meta}\n`;
  writeFileSync(join(unitDir, 'hello.service'), unit('console test', 'role=a'));
  writeFileSync(join(unitDir, 'gpu.service'), unit('console test', 'gpu=true'));
  writeFileSync(join(unitDir, 'remote.service'), unit('remote journal test', 'role=b'));
  writeFileSync(join(unitDir, 'act.service'), unit('console actions', 'role=b'));
  writeFileSync(join(unitDir, 'refused.service'), unit('console refusal', 'role=b'));
  const cluster = await createCluster({
    machines: [
      {
        name: 'ui-a',
        metadata: { role: 'a' },
        fleetConf: { api_listen: `127.0.0.1:${TCP_PORT}`, api_token: TOKEN },
      },
      { name: 'ui-b', metadata: { role: 'b' } },
    ],
    projectDir: PROJECT,
    startFleetd: true,
  });
  const a = cluster.machine('ui-a');
  // The host reaches machine a's unix socket through its root directory.
  const sock = `/proc/${a.leaderPid}/root/run/fleet.sock`;
  const unix = await forward((c) => {
    const s = createConnection(sock);
    c.pipe(s).pipe(c);
    c.on('error', () => s.destroy());
    s.on('error', () => c.destroy());
  });
  // ...and its loopback TCP listener from inside its network namespace.
  const tcp = await forward((c) => {
    const p = spawn(
      'nsenter',
      ['-t', String(a.leaderPid), '-n', 'socat', 'STDIO', `TCP:127.0.0.1:${TCP_PORT}`],
      {
        stdio: ['pipe', 'pipe', 'ignore'],
      },
    );
    c.pipe(p.stdin);
    p.stdout.pipe(c);
    c.on('error', () => p.kill());
    c.on('close', () => p.kill());
    p.stdin.on('error', () => c.destroy());
    p.on('exit', () => c.destroy());
  });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    cluster,
    browser,
    url: `http://127.0.0.1:${unix.port}/ui/`,
    tokenUrl: `http://127.0.0.1:${tcp.port}/ui/`,
    unitFile: (name) => join(unitDir, name),
    close: async () => {
      await browser.close().catch(() => {});
      unix.server.close();
      tcp.server.close();
      await cluster.teardown();
      rmSync(unitDir, { recursive: true, force: true });
    },
  };
}

/** The text of a cell of the units or machines table. */
export async function field(row: Locator, name: string): Promise<string> {
  return ((await row.locator(`[data-field="${name}"]`).textContent()) ?? '').trim();
}

/** Waits until `probe` holds, reading the page (or the cluster) each time. */
export const eventually = (what: string, probe: () => Promise<boolean>, timeoutMs = 120_000) =>
  until(what, timeoutMs, async () => ((await probe()) ? true : undefined));

/** `fleetctl list-unit-files`: unit → desired state (what the cluster was asked for). */
export async function desiredStates(cluster: Cluster): Promise<Map<string, string>> {
  const out = await fleetctlOk(cluster, ['list-unit-files', '--no-legend', '--fields=unit,dstate']);
  return new Map(
    out
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => l.split(/\s+/) as [string, string]),
  );
}

/** `fleetctl list-machines`: machine ID → state (active or drained). */
export async function machineStates(cluster: Cluster): Promise<Map<string, string>> {
  const out = await fleetctlOk(cluster, ['list-machines', '--full', '--no-legend', '--fields=machine,state']);
  return new Map(
    out
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => l.split(/\s+/) as [string, string]),
  );
}

/** Confirms the open confirmation dialog by clicking its button (the keyboard test uses keys). */
export async function confirm(page: Page): Promise<void> {
  await page.locator('#confirm-dialog[open]').waitFor();
  await page.locator('#confirm-ok').click();
  await page.locator('#confirm-dialog[open]').waitFor({ state: 'detached' });
}

/** What has keyboard focus, and whether it is drawn visibly (an outline of some width). */
export function focused(page: Page): Promise<{ id: string; key: string; text: string; outline: string }> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    const style = el ? getComputedStyle(el) : undefined;
    return {
      id: el?.id ?? '',
      key: el?.dataset.key ?? el?.getAttribute('href') ?? '',
      text: (el?.textContent ?? '').trim(),
      outline: style && style.outlineStyle !== 'none' ? style.outlineWidth : '0px',
    };
  });
}

/** Presses Tab until `wanted` has focus (at most 80 times), checking each stop's focus is visible. */
export async function tabTo(page: Page, wanted: (f: { id: string; key: string }) => boolean): Promise<void> {
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (!wanted(f)) continue;
    if (f.outline === '0px') throw new Error(`focus on ${f.key || f.id} is not visible`);
    return;
  }
  throw new Error('Tab never reached the wanted control');
}

/** The page overflows horizontally (something is wider than the viewport). */
export function overflowsHorizontally(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
}
