// The API tokens page (issue 16): create a token limited to an organization and to some
// permissions, see its secret once (copy button, never again on reload, never in a cookie), use
// it against the API, revoke it; a permission not held is not offered and is refused if sent
// anyway (R6); an expiry beyond the server's maximum is refused next to its field.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  apiAs, browser, createOrg, email, look, signUp, startServer, visitor,
} from './harness.mjs';

let server;
let b;

before(async () => {
  server = await startServer();
  b = await browser();
});

after(async () => {
  await b?.close();
  await server?.stop();
});

const api = (...args) => apiAs(server, ...args);

/** `GET /api/v1{path}` with `secret` as the bearer: status and body. */
async function withToken(secret, path) {
  const r = await fetch(`${server.base}/api/v1${path}`, { headers: { authorization: `Bearer ${secret}` } });
  return { status: r.status, body: await r.json().catch(() => null) };
}

/** A day `n` days from now, as a date field takes it (UTC). */
const day = (n) => new Date(Date.now() + n * 864e5).toISOString().slice(0, 10);

test('a token limited to an organization: shown once, copied, used, gone on reload, revoked', async () => {
  const context = await b.newContext({ viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
  const page = await context.newPage();
  const me = email('Tia');
  await signUp(page, server.base, 'Tia', me);
  const orgName = `Vault ${process.pid}`;
  const slug = await createOrg(page, server.base, orgName);

  await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'API tokens' }).click();
  await page.waitForURL(`${server.base}/tokens`);
  assert.match(await page.locator('main').innerText(), /You have no API token yet/);
  await look(page, 'tokens-empty');

  await page.getByLabel('Name').fill('deploy bot');
  await page.getByLabel('Organization').selectOption({ label: orgName });
  await page.getByLabel('projects.read', { exact: true }).check();
  await page.getByLabel('projects.deploy', { exact: true }).check();
  const expires = day(30);
  await page.getByLabel('Expires').fill(expires);
  await page.getByRole('button', { name: 'Create token' }).click();

  assert.match(await page.getByRole('status').innerText(), /API token deploy bot created/);
  const main = await page.locator('main').innerText();
  assert.match(main, /it will not be shown again/);
  const secret = (await page.locator('#new-token').innerText()).trim();
  assert.match(secret, /^gldh_pat_[A-Za-z0-9_-]{20,}$/);
  await look(page, 'tokens-created');

  const copy = page.getByRole('button', { name: 'Copy' });
  await copy.click();
  await assert.doesNotReject(page.getByRole('button', { name: 'Copied' }).waitFor());
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  for (const c of await context.cookies()) {
    assert.ok(!decodeURIComponent(c.value).includes(secret), `cookie ${c.name} carries the secret`);
  }

  // The token works, as limited as it was made.
  const mine = await withToken(secret, '/me');
  assert.equal(mine.status, 200);
  assert.equal(mine.body.email, me);
  const orgs = await withToken(secret, '/orgs');
  assert.deepEqual(orgs.body.items.map((o) => o.slug), [slug], 'it sees only its organization');
  assert.equal((await withToken(secret, `/orgs/${slug}/projects`)).status, 200);
  assert.equal((await withToken(secret, `/orgs/${slug}/members`)).status, 403, 'members.read was not given');
  const listed = await api(me, 'GET', '/tokens');
  assert.equal(listed.body.items.length, 1);
  assert.deepEqual(listed.body.items[0].permissions.sort(), ['projects.deploy', 'projects.read']);
  assert.equal(listed.body.items[0].expires_at.slice(0, 19), `${expires}T23:59:59`);

  const row = page.getByRole('row').filter({ hasText: 'deploy bot' });
  const rowText = await row.innerText();
  assert.match(rowText, new RegExp(orgName));
  assert.match(rowText, /projects\.read/);
  assert.match(rowText, new RegExp(expires));

  // Reloading asks for the page again (no form sent twice): the secret is gone for good.
  const again = await page.reload();
  assert.equal(again.request().method(), 'GET');
  assert.equal(again.status(), 200);
  assert.ok(!(await page.content()).includes(secret), 'the secret is not on the reloaded page');
  assert.equal(await page.locator('#new-token').count(), 0);
  assert.equal((await api(me, 'GET', '/tokens')).body.items.length, 1, 'reloading made no second token');
  await look(page, 'tokens-list');

  await row.getByText('Revoke').first().click();
  await look(page, 'tokens-revoke-confirm');
  await row.getByRole('button', { name: 'Revoke' }).click();
  await page.waitForURL(`${server.base}/tokens`);
  assert.match(await page.getByRole('status').innerText(), /API token deploy bot revoked/);
  assert.match(await page.locator('main').innerText(), /You have no API token yet/);
  assert.equal((await withToken(secret, '/me')).status, 401);
  await look(page, 'tokens-revoked');
  await context.close();
});

test('a permission I do not hold is not offered, and refused next to the field if sent anyway', async () => {
  const owner = await visitor(b);
  const ownerEmail = email('Uma');
  await signUp(owner.page, server.base, 'Uma', ownerEmail);
  const orgName = `Lattice ${process.pid}`;
  const slug = await createOrg(owner.page, server.base, orgName);
  const { context, page } = await visitor(b);
  const dev = email('Vik');
  await signUp(page, server.base, 'Vik', dev);
  assert.equal((await api(ownerEmail, 'POST', `/orgs/${slug}/members`, { email: dev, roles: ['developer'] })).status, 201);

  await page.goto(`${server.base}/tokens`);
  const manage = page.getByLabel('members.manage', { exact: true });
  // Any organization: my personal one gives me everything.
  assert.equal(await manage.isEnabled(), true);
  await page.getByLabel('Organization').selectOption({ label: orgName });
  assert.equal(await manage.isDisabled(), true, 'a developer cannot give members.manage');
  assert.equal(await page.getByLabel('projects.read', { exact: true }).isEnabled(), true);
  await look(page, 'tokens-narrowed');

  // Sent anyway (the box forced open): the service refuses, next to the permissions.
  await page.getByLabel('Name').fill('sneaky');
  await manage.evaluate((box) => { box.disabled = false; box.checked = true; });
  await page.getByRole('button', { name: 'Create token' }).click();
  const error = page.locator('#perm-error');
  assert.match(await error.innerText(), /You do not hold members\.manage, so you cannot hand it out/);
  assert.match(await page.getByRole('group', { name: 'Permissions' }).getAttribute('aria-describedby'), /perm-error/);
  assert.equal(await page.getByLabel('Name').inputValue(), 'sneaky', 'what was typed is kept');
  assert.equal(await page.getByLabel('Organization').inputValue(), slug);
  assert.equal(await manage.isDisabled(), true, 'still not offered for that organization');
  assert.equal(await manage.isChecked(), false);
  assert.equal(await page.locator('#new-token').count(), 0);
  await look(page, 'tokens-refused');
  assert.equal((await api(dev, 'GET', '/tokens')).body.items.length, 0, 'nothing was made');

  // An expiry past the server's maximum (365 days) is refused next to its field.
  const expires = page.getByLabel('Expires');
  assert.equal(await expires.getAttribute('max'), day(364));
  await expires.evaluate((input) => input.removeAttribute('max'));
  await expires.fill(day(400));
  await page.getByRole('button', { name: 'Create token' }).click();
  assert.equal(await page.getByLabel('Expires').getAttribute('aria-invalid'), 'true');
  assert.match(await page.locator('#f-expires_at-error').innerText(), /at most 365 days ahead/);
  assert.equal((await api(dev, 'GET', '/tokens')).body.items.length, 0, 'nothing was made');
  await look(page, 'tokens-expiry-refused');

  // Signed out, the page sends me to sign in and back.
  const stranger = await visitor(b);
  await stranger.page.goto(`${server.base}/tokens`);
  await stranger.page.waitForURL(/\/signin\?next=\/tokens$/);
  await stranger.context.close();
  await owner.context.close();
  await context.close();
});
