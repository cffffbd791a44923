/// <reference lib="dom" />
// The web console in real headless Chromium (Debian's chromium, driven by playwright-core) against two
// real systemd machines running fleetd (test/e2e/console-support.ts). The page, opened through a TCP
// forward of machine a's API unix socket, lists machines and units and follows them live; shows the
// journal of a unit on machine b (read by b's fleetd); runs every action, each confirmed, and fleetctl
// sees the result; shows a refused action's error. Over a token-protected TCP listener it asks for the
// token and keeps it in memory only. The main flows work by keyboard alone with visible focus, and the
// views fit 1280×800 and a phone's 390×844. Screenshots: test/e2e/artifacts/.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetctlOk, listUnits } from '../support/fleet-e2e.js';
import {
  ARTIFACTS,
  type ConsoleRig,
  confirm,
  desiredStates,
  eventually,
  field,
  focused,
  machineStates,
  overflowsHorizontally,
  startConsoleRig,
  TOKEN,
  tabTo,
} from './console-support.js';

let rig: ConsoleRig;

beforeAll(async () => {
  rig = await startConsoleRig();
}, 600_000);

afterAll(async () => {
  await rig?.close();
}, 600_000);

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const unitRow = (page: Page, unit: string) => page.locator(`tr[data-unit="${unit}"]`);
const activeIs = async (unit: string, active: string) =>
  (await listUnits(rig.cluster)).some((u) => u.unit === unit && u.active === active);
const mainPID = async (unit: string) =>
  (await rig.cluster.execOk('ui-b', ['systemctl', 'show', '--property=MainPID', '--value', unit])).trim();

describe('web console in Chromium', () => {
  it('lists machines and units and follows them live', async () => {
    const { cluster } = rig;
    const page = await rig.browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${rig.url}#/machines`);
    await eventually(
      'both machines in the page',
      async () => (await page.locator('tr[data-machine]').count()) === 2,
    );
    await shot(page, 'e2e-machines');

    await fleetctlOk(cluster, ['start', rig.unitFile('hello.service')], { timeoutMs: 120_000 });
    await page.keyboard.press('u');
    const hello = unitRow(page, 'hello.service');
    await eventually('hello.service active in the page', async () =>
      /^active/.test(await field(hello, 'active')),
    );
    expect(await field(hello, 'machine')).toContain(cluster.machine('ui-a').ip);

    await fleetctlOk(cluster, ['start', '--no-block', rig.unitFile('gpu.service')]);
    const gpu = unitRow(page, 'gpu.service');
    await eventually('gpu.service reason in the page', async () => /gpu/.test(await field(gpu, 'reason')));
    await shot(page, 'e2e-units');

    // Stop from the page: confirm, then the row turns inactive without a reload.
    await hello.locator('[data-action="stop"]').click();
    await confirm(page);
    await eventually('hello.service inactive in the page', async () =>
      /^inactive/.test(await field(hello, 'active')),
    );
    expect(await field(hello, 'desired')).toBe('loaded');

    // One unit: its file and the journal fleetd on machine a (which serves the page) read itself.
    await hello.locator('a').click();
    await eventually('the unit file', async () =>
      /MachineMetadata=role=a/.test((await page.locator('#unit-file').textContent()) ?? ''),
    );
    await eventually('journal lines read on machine a', async () =>
      /console test/.test((await page.locator('#journal').textContent()) ?? ''),
    );
    expect(await page.locator('#journal').getAttribute('data-machine')).toBe(
      cluster.machine('ui-a').machineID,
    );
    await page.close();
  });

  it("shows the journal of a unit on another machine, read by that machine's fleetd", async () => {
    const { cluster } = rig;
    await fleetctlOk(cluster, ['start', rig.unitFile('remote.service')], { timeoutMs: 120_000 });
    const page = await rig.browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${rig.url}#/unit/remote.service`);
    const journal = page.locator('#journal');
    await eventually('the journal of machine b', async () =>
      /remote journal test/.test((await journal.textContent()) ?? ''),
    );
    expect(await journal.getAttribute('data-machine')).toBe(cluster.machine('ui-b').machineID);
    expect(await page.getByText('Read on machine').textContent()).toContain(cluster.machine('ui-b').ip);
    await shot(page, 'e2e-remote-journal');
    await page.close();
  });

  it('runs every action after confirmation; fleetctl sees each; a refused one shows its error', async () => {
    const { cluster } = rig;
    const page = await rig.browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${rig.url}#/units`);
    await fleetctlOk(cluster, ['submit', rig.unitFile('act.service')]);
    const act = unitRow(page, 'act.service');
    await act.waitFor();
    const click = async (action: string) => {
      await act.locator(`[data-action="${action}"]`).click();
      await confirm(page);
    };

    await click('start');
    await eventually('act.service active (fleetctl list-units)', () => activeIs('act.service', 'active'));
    const before = await mainPID('act.service');
    await click('restart');
    await eventually('act.service restarted: a new main process', async () => {
      const now = await mainPID('act.service');
      return now !== before && now !== '0' && (await activeIs('act.service', 'active'));
    });
    await click('stop');
    await eventually('act.service stopped (fleetctl list-unit-files, list-units)', async () =>
      (await desiredStates(cluster)).get('act.service') === 'loaded'
        ? activeIs('act.service', 'inactive')
        : false,
    );
    await click('destroy');
    await eventually(
      'act.service gone (fleetctl list-unit-files)',
      async () => !(await desiredStates(cluster)).has('act.service'),
    );
    await act.waitFor({ state: 'detached' });

    const b = cluster.machine('ui-b').machineID;
    await page.keyboard.press('m');
    const row = page.locator(`tr[data-machine="${b}"]`);
    await row.locator('[data-action="drain"]').click();
    await confirm(page);
    await eventually(
      'machine b drained (fleetctl list-machines)',
      async () => (await machineStates(cluster)).get(b) === 'drained',
    );
    await eventually(
      'machine b drained in the page',
      async () => (await field(row, 'drained')) === 'drained',
    );
    await row.locator('[data-action="undrain"]').click();
    await confirm(page);
    await eventually(
      'machine b active again (fleetctl list-machines)',
      async () => (await machineStates(cluster)).get(b) === 'active',
    );

    // Refused: the unit is destroyed while the page asks to confirm starting it.
    await page.keyboard.press('u');
    await fleetctlOk(cluster, ['submit', rig.unitFile('refused.service')]);
    await unitRow(page, 'refused.service').locator('[data-action="start"]').click();
    await page.locator('#confirm-dialog[open]').waitFor();
    await fleetctlOk(cluster, ['destroy', 'refused.service']);
    await confirm(page);
    await page.locator('#error:not([hidden])').waitFor();
    expect(await page.locator('#error-text').textContent()).toBe(
      'start refused.service failed: unit does not exist and options field empty',
    );
    await shot(page, 'e2e-refused');
    expect((await desiredStates(cluster)).has('refused.service')).toBe(false);
    await page.close();
  });

  it('over a TCP listener asks for the token, keeps it in memory only, refuses a wrong one', async () => {
    const context = await rig.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${rig.tokenUrl}#/machines`);
    await page.locator('#token-dialog[open]').waitFor();
    expect(await page.locator('#token-error').isHidden()).toBe(true);
    // Dismissed with Escape, the page offers the prompt again from the header.
    await page.keyboard.press('Escape');
    await page.locator('#token-open:not([hidden])').waitFor();
    await page.locator('#token-open').click();
    await page.locator('#token-dialog[open]').waitFor();

    await page.locator('#token-input').fill('not-the-token-0123456789abcdef');
    await page.keyboard.press('Enter');
    await page.locator('#token-error:not([hidden])').waitFor();
    expect(await page.locator('#token-error').textContent()).toContain('fleetd refused this token');
    expect(await page.locator('#token-dialog').getAttribute('open')).not.toBeNull();

    await page.locator('#token-input').fill(TOKEN);
    await page.keyboard.press('Enter');
    await eventually(
      'both machines through the token listener',
      async () => (await page.locator('tr[data-machine]').count()) === 2,
    );
    expect(await page.locator('#live').textContent()).toBe('live');
    const kept = await page.evaluate(async () => ({
      local: localStorage.length,
      session: sessionStorage.length,
      cookie: document.cookie,
      databases: (await indexedDB.databases()).length,
      url: location.href,
    }));
    expect(kept).toEqual({
      local: 0,
      session: 0,
      cookie: '',
      databases: 0,
      url: `${rig.tokenUrl}#/machines`,
    });
    expect(await context.cookies()).toEqual([]);
    await shot(page, 'e2e-token');
    // Memory only: a reload asks again.
    await page.reload();
    await page.locator('#token-dialog[open]').waitFor();
    await context.close();
  });

  it('works by keyboard alone: open a unit, cancel and confirm an action, with visible focus', async () => {
    const { cluster } = rig;
    const page = await rig.browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${rig.url}#/units`);
    await unitRow(page, 'hello.service').waitFor();
    expect((await desiredStates(cluster)).get('hello.service')).toBe('loaded');

    await tabTo(page, (f) => f.key === 'open:hello.service');
    await page.keyboard.press('Enter');
    await eventually(
      'the unit view',
      async () => (await page.locator('h1').textContent()) === 'hello.service',
    );
    await tabTo(page, (f) => f.key === 'start:hello.service');

    // Escape closes the dialog: nothing is sent, focus returns to the button.
    await page.keyboard.press('Enter');
    await page.locator('#confirm-dialog[open]').waitFor();
    expect((await focused(page)).id).toBe('confirm-cancel');
    await page.keyboard.press('Escape');
    await page.locator('#confirm-dialog[open]').waitFor({ state: 'detached' });
    // The dialog's close event (which puts focus back) follows the attribute's removal.
    await eventually(
      'focus back on Start',
      async () => (await focused(page)).key === 'start:hello.service',
      10_000,
    );
    expect((await desiredStates(cluster)).get('hello.service')).toBe('loaded');

    // Enter, Tab to Confirm, Enter: started.
    await page.keyboard.press('Enter');
    await page.locator('#confirm-dialog[open]').waitFor();
    await page.keyboard.press('Tab');
    const ok = await focused(page);
    expect([ok.id, ok.outline !== '0px']).toEqual(['confirm-ok', true]);
    await page.keyboard.press('Enter');
    await eventually('hello.service started by keyboard (fleetctl list-units)', () =>
      activeIs('hello.service', 'active'),
    );
    await shot(page, 'e2e-keyboard');

    await page.keyboard.press('m');
    await eventually('machines by key', async () => (await page.locator('h1').textContent()) === 'Machines');
    await page.keyboard.press('u');
    await eventually('units by key', async () => (await page.locator('h1').textContent()) === 'Units');
    await page.close();
  });

  it('fits 1280×800 and a 390×844 phone: screenshots, no horizontal overflow', async () => {
    const views: [string, string, string][] = [
      ['machines', '#/machines', 'tr[data-machine]'],
      ['units', '#/units', 'tr[data-unit]'],
      ['unit', '#/unit/hello.service', '#journal[data-machine]'],
    ];
    for (const [width, height] of [
      [1280, 800],
      [390, 844],
    ] as const) {
      const page = await rig.browser.newPage({ viewport: { width, height } });
      for (const [name, hash, ready] of views) {
        await page.goto(`${rig.url}${hash}`);
        await page.locator(ready).first().waitFor();
        await page.screenshot({ path: join(ARTIFACTS, `console-${name}-${width}x${height}.png`) });
        expect(`${name} at ${width}px overflows: ${await overflowsHorizontally(page)}`).toBe(
          `${name} at ${width}px overflows: false`,
        );
      }
      await page.close();
    }
  });
});
