// The patient portal in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core):
// create an account, verify the phone, sign out and in, book, reschedule, cancel, and a
// keyboard-only booking; axe-core on every page and state visited (0 violations allowed);
// screenshots at 390 px and 1280 px; page weight and server time per page.
//
// Builds nothing. Environment:
//   CLINIC_BIN      the backend binary (default: $CARGO_TARGET_DIR or ../../../../target, then
//                   release/examples/clinic)
//   SCREENSHOT_DIR  where screenshots go (default: a temporary directory)
//   CHROMIUM        the browser (default /usr/bin/chromium)
// Run: node --test portal.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const targetDir = process.env.CARGO_TARGET_DIR || path.resolve(here, '../../../../target');
const CLINIC_BIN = process.env.CLINIC_BIN || path.join(targetDir, 'release/examples/clinic');
const SHOTS = process.env.SCREENSHOT_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'portal-shots-'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run'];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startClinic() {
  assert.ok(fs.existsSync(CLINIC_BIN), `backend binary missing: ${CLINIC_BIN} (cargo build --release --example clinic)`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-data-'));
  const port = await freePort();
  const child = spawn(CLINIC_BIN, ['--data-dir', dataDir, '--listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      const r = await fetch(`${base}/health`);
      if (r.status === 200) return { child, base, dataDir, log: () => log };
    } catch { /* not up yet */ }
    await sleep(100);
  }
  child.kill();
  throw new Error(`the clinic never answered /health:\n${log}`);
}

/// The newest code texted to `phone` after `since` lines of the simulated phone (the demo's
/// outbox deliveries file: /v1/outbox never lists one-time codes).
async function codeFor(dataDir, phone, since) {
  const file = path.join(dataDir, 'outbox.jsonl');
  for (let i = 0; i < 200; i++) {
    if (fs.existsSync(file)) {
      const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).slice(since);
      const hit = lines.map((l) => JSON.parse(l)).reverse()
        .find((m) => m.address === phone && /code is \d{6}/.test(m.body));
      if (hit) return hit.body.match(/code is (\d{6})/)[1];
    }
    await sleep(100);
  }
  throw new Error(`no code texted to the test number`);
}

function deliveredLines(dataDir) {
  const file = path.join(dataDir, 'outbox.jsonl');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
}

const weights = [];
const cssBytes = { value: 0 };

/// Page weight (document + stylesheet, as transferred) and server time of the current page.
async function measure(page, name, documentResponse) {
  const sizes = await documentResponse.request().sizes();
  const timing = await page.evaluate(() => {
    const [n] = performance.getEntriesByType('navigation');
    return n ? n.responseStart - n.requestStart : -1;
  });
  const bytes = sizes.responseBodySize + sizes.responseHeadersSize + cssBytes.value;
  weights.push({ page: name, bytes, server_ms: Math.round(timing * 10) / 10 });
  assert.ok(bytes < 100 * 1024, `${name}: ${bytes} bytes`);
}

const visited = [];

/// axe-core on the page as it is now: any violation fails the test.
async function axe(page, state) {
  // Evaluated over the DevTools protocol, which the page's CSP (no scripts) does not govern.
  await page.evaluate(AXE);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  });
  visited.push(state);
  assert.deepEqual(result, [], `axe on ${state}: ${JSON.stringify(result, null, 1)}`);
}

/// Nothing overflows a 320 px wide screen.
async function fits320(page, state) {
  const before = page.viewportSize();
  await page.setViewportSize({ width: 320, height: 640 });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  await page.setViewportSize(before);
  assert.ok(wide <= 320, `${state} is ${wide} px wide at 320 px`);
}

async function shoot(page, name) {
  const before = page.viewportSize();
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: path.join(SHOTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize(before);
}

async function go(page, name, action) {
  const [response] = await Promise.all([page.waitForNavigation(), action()]);
  await measure(page, name, response);
  return response;
}

/// Presses Tab until `selector` has focus (at most 60 presses), checking focus is visible.
async function tabTo(page, selector) {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    const hit = await page.evaluate((sel) => {
      const el = document.activeElement;
      if (!el || !el.matches(sel)) return null;
      const s = getComputedStyle(el);
      return { outline: s.outlineStyle, width: s.outlineWidth };
    }, selector);
    if (hit) {
      assert.notEqual(hit.outline, 'none', `focus on ${selector} is not visible`);
      return;
    }
  }
  throw new Error(`Tab never reached ${selector}`);
}

test('the portal in a real browser', { timeout: 150_000 }, async (t) => {
  const clinic = await startClinic();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
  const cspViolations = [];
  try {
    const context = await browser.newContext({ viewport: { width: 390, height: 900 }, locale: 'en-US' });
    const page = await context.newPage();
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });
    const css = await context.request.get(`${clinic.base}/portal/portal.css`);
    cssBytes.value = (await css.body()).length;
    const phone = '+15555550123';

    await t.test('create an account, with an error state first', async () => {
      const r = await page.goto(`${clinic.base}/portal`);
      await measure(page, 'sign-in', r);
      assert.match(await page.title(), /Sign in/);
      await axe(page, 'sign-in');
      await shoot(page, 'sign-in');
      await go(page, 'register', () => page.getByRole('link', { name: 'Create an account' }).click());
      await axe(page, 'register');
      await page.getByLabel('First name').fill('Ana Lucía Esperanza Maximiliana');
      await page.getByLabel('Date of birth').fill('02/03/1984');
      await page.getByLabel('Mobile number').fill(phone);
      await go(page, 'register (errors)', () => page.getByRole('button', { name: 'Create an account' }).click());
      assert.equal(await page.getByRole('heading', { name: 'There is a problem' }).count(), 1);
      assert.equal(await page.getByLabel('Last name').getAttribute('aria-invalid'), 'true');
      assert.match(await page.getByLabel('Last name').getAttribute('aria-describedby'), /family-error/);
      await axe(page, 'register with errors');
      await shoot(page, 'register-errors');
      await page.getByLabel('Last name').fill('Moreno-Castellanos de la Vega y Villalobos-Hernández');
      await page.getByLabel('Date of birth').fill('1984-03-02');
      const since = deliveredLines(clinic.dataDir);
      await go(page, 'verify phone', () => page.getByRole('button', { name: 'Create an account' }).click());
      assert.match(await page.title(), /Check your mobile number/);
      await axe(page, 'verify phone');
      const code = await codeFor(clinic.dataDir, phone, since);
      await page.getByLabel('Code').fill(code);
      await go(page, 'home (new account)', () => page.getByRole('button', { name: 'Check the code' }).click());
      assert.match(await page.locator('h1').innerText(), /Hello, Ana/);
      assert.match(await page.locator('.notice').innerText(), /verified/);
      assert.match(await page.locator('body').innerText(), /You have no upcoming appointments\./);
      assert.match(await page.locator('body').innerText(), /You owe nothing\./);
      await axe(page, 'home (empty states)');
      await fits320(page, 'home');
      await shoot(page, 'home-empty');
    });

    await t.test('sign out and sign in with a texted code', async () => {
      await go(page, 'sign-in (after sign-out)', () => page.getByRole('button', { name: 'Sign out' }).click());
      await page.getByLabel('Mobile number').fill(phone);
      const since = deliveredLines(clinic.dataDir);
      await go(page, 'enter code', () => page.getByRole('button', { name: 'Text me a code' }).click());
      assert.match(await page.locator('.notice').innerText(), /If this number is registered/);
      await axe(page, 'enter code');
      await page.getByLabel('Code').fill('000000');
      await go(page, 'enter code (wrong)', () => page.getByRole('button', { name: 'Sign in' }).click());
      assert.equal(await page.getByLabel('Code').getAttribute('aria-invalid'), 'true');
      await axe(page, 'enter code with an error');
      const code = await codeFor(clinic.dataDir, phone, since);
      await page.getByLabel('Code').fill(code);
      await go(page, 'home', () => page.getByRole('button', { name: 'Sign in' }).click());
      assert.match(await page.locator('h1').innerText(), /Hello, Ana/);
    });

    let appointment;
    await t.test('book, add to calendar', async () => {
      await go(page, 'book', () => page.locator('nav').getByRole('link', { name: 'Book', exact: true }).click());
      await axe(page, 'book (search form)');
      // A day far ahead has no free times: the empty state.
      await page.getByLabel('Type of visit').selectOption('gp-follow-up');
      const far = new Date(Date.now() + 80 * 86400e3).toISOString().slice(0, 10);
      await page.getByLabel(/^Day/).fill(far);
      await go(page, 'book (no options)', () => page.getByRole('button', { name: 'Find times' }).click());
      assert.match(await page.locator('body').innerText(), /No times are free/);
      await axe(page, 'book (empty state)');
      await page.getByLabel(/^Day/).fill('tomorrow');
      await go(page, 'book (bad day)', () => page.getByRole('button', { name: 'Find times' }).click());
      assert.equal(await page.getByLabel(/^Day/).getAttribute('aria-invalid'), 'true');
      await axe(page, 'book (error state)');
      await page.getByLabel(/^Day/).fill('');
      await page.getByLabel('Afternoon').check();
      await go(page, 'book (options)', () => page.getByRole('button', { name: 'Find times' }).click());
      const options = page.locator('ul.options li');
      assert.ok(await options.count() > 0, 'options offered');
      await axe(page, 'book (options)');
      await fits320(page, 'book options');
      await shoot(page, 'book-options');
      await go(page, 'confirm', () => options.first().getByRole('link').click());
      assert.match(await page.locator('h1').innerText(), /Confirm your appointment/);
      await axe(page, 'confirm');
      await go(page, 'booked', () => page.getByRole('button', { name: 'Book this time' }).click());
      assert.match(await page.locator('h1').innerText(), /Your appointment is booked/);
      await axe(page, 'booked (confirmation)');
      await shoot(page, 'booked');
      appointment = page.url().match(/appointments\/([0-9a-f-]{36})/)[1];
      const ics = await context.request.get(`${clinic.base}/portal/appointments/${appointment}/calendar.ics`);
      assert.equal(ics.status(), 200);
      const text = await ics.text();
      assert.match(text, /^BEGIN:VCALENDAR\r\n/);
      assert.match(text, /\r\nBEGIN:VEVENT\r\nUID:[^\r]+\r\nDTSTAMP:\d{8}T\d{6}Z\r\nDTSTART:\d{8}T\d{6}Z\r\nDTEND:\d{8}T\d{6}Z\r\n/);
      assert.ok(text.split('\r\n').every((l) => Buffer.byteLength(l) <= 75));
    });

    await t.test('reschedule and cancel', async () => {
      await go(page, 'appointments', () => page.locator('nav').getByRole('link', { name: 'Appointments', exact: true }).click());
      await axe(page, 'appointments');
      await go(page, 'reschedule', () => page.getByRole('link', { name: /^Reschedule/ }).first().click());
      await axe(page, 'reschedule (search)');
      await page.getByLabel('Morning').check();
      await go(page, 'reschedule (options)', () => page.getByRole('button', { name: 'Find times' }).click());
      await axe(page, 'reschedule (options)');
      await go(page, 'confirm move', () => page.locator('ul.options li').first().getByRole('link').click());
      await go(page, 'moved', () => page.getByRole('button', { name: 'Move to this time' }).click());
      assert.match(await page.locator('.notice').innerText(), /The appointment is moved/);
      await axe(page, 'moved');
      await go(page, 'appointments', () => page.locator('nav').getByRole('link', { name: 'Appointments', exact: true }).click());
      await go(page, 'cancelled', () => page.getByRole('button', { name: /^Cancel/ }).first().click());
      assert.match(await page.locator('.notice').innerText(), /The appointment is cancelled/);
      assert.match(await page.locator('ul.appointments').innerText(), /Status: Cancelled/);
      await axe(page, 'appointments (after cancel)');
    });

    await t.test('my record: demographics and the address, with an error state', async () => {
      await go(page, 'my record', () => page.locator('nav').getByRole('link', { name: 'My record' }).click());
      assert.match(await page.locator('main').innerText(), /Ana Lucía Esperanza Maximiliana Moreno-Castellanos/);
      assert.match(await page.locator('main').innerText(), /1984-03-02/);
      await axe(page, 'my record');
      await page.getByLabel('Street and number').fill('12 Elm Street');
      await page.getByLabel('Postal code').fill('1'.repeat(21));
      await go(page, 'my record (errors)', () => page.getByRole('button', { name: 'Save the address' }).click());
      assert.equal(await page.getByLabel('Postal code').getAttribute('aria-invalid'), 'true');
      await axe(page, 'my record with an error');
      await page.getByLabel('Postal code').fill('10001');
      await page.getByLabel('City').fill('New York');
      await go(page, 'my record (saved)', () => page.getByRole('button', { name: 'Save the address' }).click());
      assert.match(await page.locator('.notice').innerText(), /Your address is saved/);
      assert.equal(await page.getByLabel('Street and number').inputValue(), '12 Elm Street');
      await axe(page, 'my record (saved)');
      await fits320(page, 'my record');
    });

    await t.test('a keyboard-only booking (Tab, Enter and Space)', async () => {
      await page.goto(`${clinic.base}/portal/home`);
      await tabTo(page, 'a[href="/portal/book"]');
      await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
      // A radio group takes one Tab stop (its checked radio); Space selects it.
      await tabTo(page, 'input[name="part"]:checked');
      await page.keyboard.press('Space');
      assert.ok(await page.locator('#part-any').isChecked());
      await tabTo(page, 'button[type="submit"]:not(.link)');
      await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
      assert.ok(await page.locator('ul.options li').count() > 0, 'options offered');
      await tabTo(page, 'ul.options a');
      await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
      await tabTo(page, 'main button[type="submit"]');
      await Promise.all([page.waitForNavigation(), page.keyboard.press('Space')]);
      assert.match(await page.locator('h1').innerText(), /Your appointment is booked/);
      await axe(page, 'booked by keyboard');
    });

    assert.deepEqual(cspViolations, [], 'the pages work under their CSP');
  } finally {
    await browser.close();
    clinic.child.kill();
    console.log(`axe-core: 0 violations on ${visited.length} pages and states: ${visited.join(', ')}`);
    console.log(`screenshots: ${SHOTS}`);
    console.log('page weight (document + stylesheet, bytes) and server time (request to first byte, ms):');
    for (const w of weights) console.log(`  ${w.page.padEnd(28)} ${String(w.bytes).padStart(7)}  ${w.server_ms}`);
  }
});
