// The web console in real headless Chromium (Debian's chromium, driven by playwright-core) against two
// real systemd machines running fleetd: the page is opened through a TCP forward of machine a's API
// unix socket (as an operator's `ssh -L` would), lists both machines and the units, shows a started
// unit turn active and a stopped one (stopped from the page, confirmed) turn inactive without a
// reload, and shows why an unplaceable unit is not placed. Screenshots: test/e2e/artifacts/.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, fleetctlOk, PROJECT, until } from '../support/fleet-e2e.js';
import { type Cluster, createCluster } from '../support/nspawn.js';

const ARTIFACTS = join(PROJECT, 'test/e2e/artifacts');
let cluster: Cluster;
let forward: Server;
let browser: Browser;
let url: string;
let unitDir: string;

beforeAll(async () => {
  ensureBuilt();
  mkdirSync(ARTIFACTS, { recursive: true });
  unitDir = mkdtempSync(join(tmpdir(), 'fleet-ts-console-'));
  const unit = (meta: string) =>
    `[Unit]\nDescription=console test\n\n[Service]\nExecStart=/bin/sleep infinity\n\n[X-Fleet]\nMachineMetadata=${meta}\n`;
  writeFileSync(join(unitDir, 'hello.service'), unit('role=a'));
  writeFileSync(join(unitDir, 'gpu.service'), unit('gpu=true'));
  cluster = await createCluster({
    machines: [
      { name: 'ui-a', metadata: { role: 'a' } },
      { name: 'ui-b', metadata: { role: 'b' } },
    ],
    projectDir: PROJECT,
    startFleetd: true,
  });
  // The host reaches machine a's unix socket through its root; a local TCP port forwards to it.
  const sock = `/proc/${cluster.machine('ui-a').leaderPid}/root/run/fleet.sock`;
  forward = createServer((c) => {
    const s = createConnection(sock);
    c.pipe(s).pipe(c);
    c.on('error', () => s.destroy());
    s.on('error', () => c.destroy());
  });
  await new Promise<void>((r) => forward.listen(0, '127.0.0.1', r));
  const addr = forward.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/ui/`;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  forward?.close();
  await cluster?.teardown();
  if (unitDir) rmSync(unitDir, { recursive: true, force: true });
}, 600_000);

describe('web console in Chromium', () => {
  it('lists machines and units and follows them live', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${url}#/machines`);
    await until('both machines in the page', 120_000, async () =>
      (await page.locator('tr[data-machine]').count()) === 2 ? true : undefined,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-machines.png') });

    await fleetctlOk(cluster, ['start', join(unitDir, 'hello.service')], { timeoutMs: 120_000 });
    await page.keyboard.press('u');
    const hello = page.locator('tr[data-unit="hello.service"]');
    await until('hello.service active in the page', 120_000, async () =>
      /^active/.test((await hello.locator('[data-field="active"]').textContent()) ?? '') ? true : undefined,
    );
    expect(await hello.locator('[data-field="machine"]').textContent()).toContain(cluster.machine('ui-a').ip);

    await fleetctlOk(cluster, ['start', '--no-block', join(unitDir, 'gpu.service')]);
    const gpu = page.locator('tr[data-unit="gpu.service"]');
    await until('gpu.service reason in the page', 120_000, async () =>
      /gpu/.test((await gpu.locator('[data-field="reason"]').textContent()) ?? '') ? true : undefined,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-units.png') });

    // Stop from the page: confirm, then the row turns inactive without a reload.
    await hello.locator('[data-action="stop"]').click();
    await page.locator('#confirm-ok').click();
    await until('hello.service inactive in the page', 120_000, async () =>
      /^inactive/.test((await hello.locator('[data-field="active"]').textContent()) ?? '') ? true : undefined,
    );
    expect(await hello.locator('[data-field="desired"]').textContent()).toBe('loaded');
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-stopped.png') });

    // One unit: its file and the journal fleetd on machine a read with journalctl.
    await hello.locator('a').click();
    await until('the unit file', 30_000, async () =>
      /MachineMetadata=role=a/.test((await page.locator('#unit-file').textContent()) ?? '')
        ? true
        : undefined,
    );
    await until('journal lines', 30_000, async () =>
      /console test|sleep|hello/.test((await page.locator('#journal').textContent()) ?? '')
        ? true
        : undefined,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-unit.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.keyboard.press('u');
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-units-phone.png'), fullPage: true });
  }, 600_000);
});
