// What every console test needs: a real `guildhall serve` on loopback (SQLite, mail written as
// .eml files), Debian's Chromium driven by playwright-core, axe-core, and screenshots.

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

export const PASSWORD = 'correct horse battery staple';
const SHOTS = process.env.GUILDHALL_SCREENSHOTS ?? join(process.cwd(), 'screenshots');

let counter = 0;
/** A unique email for a test's person. */
export function email(name) {
  counter += 1;
  return `${name.toLowerCase()}.${process.pid}.${counter}@example.com`;
}

/** Starts `guildhall serve` on a free port; resolves once it answers /readyz. */
export async function startServer() {
  const bin = process.env.GUILDHALL_BIN;
  assert.ok(bin, 'GUILDHALL_BIN names the guildhall binary (scripts/console-tests.sh sets it)');
  const dir = mkdtempSync(join(tmpdir(), 'gh-console-'));
  const mailDir = join(dir, 'mail');
  const child = spawn(
    bin,
    ['serve', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data'), '--mail-dir', mailDir,
      // Every test signs its people up from 127.0.0.1.
      '--signups-per-address', '100000', '--password-resets-per-address', '100000'],
    { env: { ...process.env, NO_COLOR: '1', GUILDHALL_LOG: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`guildhall did not start:\n${log}`)), 20000);
    const onData = (chunk) => {
      log += chunk;
      const m = log.match(/guildhall is serving.* listen=([0-9.:]+)/);
      if (m) {
        clearTimeout(timer);
        resolve(`http://${m[1]}`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`guildhall exited (${code}):\n${log}`)));
  });
  for (let i = 0; i < 100; i += 1) {
    const r = await fetch(`${base}/readyz`).catch(() => null);
    if (r?.ok) break;
    await new Promise((r2) => setTimeout(r2, 100));
  }
  return {
    base,
    mailDir,
    dataDir: join(dir, 'data'),
    log: () => log,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The mails written to `to`, oldest first, with quoted-printable soft breaks undone. */
export function mailsTo(server, to) {
  let files = [];
  try {
    files = readdirSync(server.mailDir).filter((f) => f.endsWith('.eml')).sort();
  } catch {
    return [];
  }
  return files
    .map((f) => readFileSync(join(server.mailDir, f), 'utf8'))
    .map((m) => m.replace(/=\r?\n/g, '').replace(/=3D/g, '='))
    .filter((m) => m.toLowerCase().includes(`to: ${to.toLowerCase()}`));
}

/** Waits for the newest mail to `to` that links to `path`, and answers the link's path+query. */
export async function linkIn(server, to, path) {
  for (let i = 0; i < 100; i += 1) {
    const mails = mailsTo(server, to);
    for (const m of mails.reverse()) {
      const found = m.match(new RegExp(`https?://[^\\s"<>]*(${path.replace(/[?]/g, '\\?')}\\?token=[A-Za-z0-9_-]+)`));
      if (found) return found[1];
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail to ${to} links to ${path}`);
}

/** One API call as `address` (signed in for it), against `server`: status and JSON body. */
export async function apiAs(server, address, method, path, body) {
  const s = await fetch(`${server.base}/api/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: address, password: PASSWORD }),
  });
  const { token } = await s.json();
  const r = await fetch(`${server.base}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: r.status === 204 ? null : await r.json() };
}

/** Debian's Chromium, headless. */
export async function browser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update'],
  });
}

/** A fresh signed-out browser context (its own cookies) and a page in it. */
export async function visitor(b) {
  const context = await b.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  return { context, page };
}

/** Signs up through /signup; lands on /orgs. */
export async function signUp(page, base, name, address) {
  await page.goto(`${base}/signup`);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill(address);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL(`${base}/orgs`);
}

/** Signs in through /signin. */
export async function signIn(page, base, address) {
  await page.goto(`${base}/signin`);
  await page.getByLabel('Email').fill(address);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/orgs/);
}

/** Creates an organization from /orgs; answers its slug. */
export async function createOrg(page, base, name) {
  await page.goto(`${base}/orgs`);
  await page.getByLabel('Name').fill(name);
  await page.getByRole('button', { name: 'Create organization' }).click();
  await page.waitForURL(/\/orgs\/[^/]+\/projects/);
  return new URL(page.url()).pathname.split('/')[2];
}

/** No serious or critical axe-core violation on the page as it is. */
export async function accessible(page) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`),
    [],
    `axe on ${page.url()}`,
  );
}

/** Screenshots at 1280x800 and 390x844, and no sideways scroll at 390 px. */
export async function shoot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: join(SHOTS, `${name}-1280.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 390, `${page.url()} scrolls sideways at 390 px (${wide} px wide)`);
  await page.screenshot({ path: join(SHOTS, `${name}-390.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** Checks a page fully: accessible, screenshots, no sideways scroll. */
export async function look(page, name) {
  await accessible(page);
  await shoot(page, name);
}

/**
 * `look` for a page of a context without script, where axe and the width check cannot run: the
 * same document (its HTML as served, at its own URL, so its stylesheet loads) checked in a
 * context with script.
 */
export async function lookWithoutScript(b, page, name) {
  const html = await page.content();
  const url = page.url();
  const context = await b.newContext({ viewport: { width: 1280, height: 800 } });
  const replica = await context.newPage();
  await replica.route(url, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }));
  await replica.goto(url);
  await look(replica, name);
  await context.close();
}
