// The audit log page (issue 16, R13): changes read as sentences, newest first; filters by actor,
// by action (one or a family) and by days; more than a page of events, paged with the API's
// cursor; without `audit.read` no link and the one 404 page (R12).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PASSWORD, browser, createOrg, email, look, signUp, startServer, visitor,
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

/** An API caller signed in once as `address`. */
async function caller(address) {
  const s = await fetch(`${server.base}/api/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: address, password: PASSWORD }),
  });
  assert.equal(s.status, 201);
  const { token } = await s.json();
  return async (method, path, body, expected) => {
    const r = await fetch(`${server.base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = r.status === 204 ? null : await r.json();
    if (expected !== undefined) assert.equal(r.status, expected, JSON.stringify(json));
    return json;
  };
}

/** An organization owned by Ada with Bob in it as `role`: their pages, emails and API callers. */
async function team(prefix, role) {
  const ada = await visitor(b);
  const adaEmail = email(`${prefix}ada`);
  await signUp(ada.page, server.base, 'Ada', adaEmail);
  const name = `${prefix} ${process.pid}`;
  const slug = await createOrg(ada.page, server.base, name);
  const bob = await visitor(b);
  const bobEmail = email(`${prefix}bob`);
  await signUp(bob.page, server.base, 'Bob', bobEmail);
  const asAda = await caller(adaEmail);
  await asAda('POST', `/orgs/${slug}/members`, { email: bobEmail, roles: [role] }, 201);
  return {
    slug, name, ada: { ...ada, email: adaEmail, api: asAda }, bob: { ...bob, email: bobEmail },
  };
}

/** The sentences of the events listed, top to bottom. */
async function sentences(page) {
  return page.locator('table.audit tbody tr td:nth-child(2)').allInnerTexts();
}

test('changes read as sentences, newest first; filters by actor, action and days', async () => {
  const { slug, name, ada, bob } = await team('Ledger', 'developer');
  const bobId = (await ada.api('GET', `/orgs/${slug}/members`, undefined, 200)).items
    .find((m) => m.user.email === bob.email).user.id;
  await ada.api('PATCH', `/orgs/${slug}/members/${bobId}`, { roles: ['admin'] }, 200);
  const carol = email('Carol');
  await ada.api('POST', `/orgs/${slug}/invitations`, { email: carol, roles: ['developer'] }, 201);
  await ada.api('POST', `/orgs/${slug}/projects`, { name: 'api' }, 201);
  const asBob = await caller(bob.email);
  await asBob('POST', `/orgs/${slug}/projects`, { name: 'bobs-app' }, 201);

  const page = ada.page;
  await page.goto(`${server.base}/orgs/${slug}/projects`);
  await page.getByRole('navigation', { name: 'Organization' }).getByRole('link', { name: 'Audit' }).click();
  await page.waitForURL(`${server.base}/orgs/${slug}/audit`);
  assert.deepEqual(await sentences(page), [
    'Bob created project bobs-app.',
    'Ada created project api.',
    `Ada invited ${carol} as developer.`,
    "Ada changed Bob's roles from developer to admin.",
    'Ada added Bob as developer.',
    `Ada created the organization ${name}.`,
  ]);
  const first = page.locator('table.audit tbody tr').first();
  assert.match(await first.innerText(), /project\.created/);
  const at = await first.locator('time').getAttribute('datetime');
  assert.match(at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, 'times are UTC');
  await look(page, 'audit');

  // By actor: Bob's one change only.
  await page.getByLabel('Actor').fill(bob.email);
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/actor=/);
  assert.deepEqual(await sentences(page), ['Bob created project bobs-app.']);
  assert.equal(await page.getByLabel('Actor').inputValue(), bob.email, 'the filter stays filled in');
  await look(page, 'audit-by-actor');

  // By one action, then by a family of actions.
  await page.getByRole('link', { name: 'Clear filters' }).click();
  await page.getByLabel('Action').selectOption('member.roles_changed');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/action=member\.roles_changed/);
  assert.deepEqual(await sentences(page), ["Ada changed Bob's roles from developer to admin."]);
  await page.getByLabel('Action').selectOption({ label: 'every member action' });
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/action=member\.\*/);
  assert.deepEqual(await sentences(page), [
    "Ada changed Bob's roles from developer to admin.",
    'Ada added Bob as developer.',
  ]);
  await look(page, 'audit-by-action');

  // By days, both included, taken from the events' own (UTC) day.
  const today = at.slice(0, 10);
  const shift = (n) => new Date(Date.parse(`${today}T00:00:00Z`) + n * 864e5).toISOString().slice(0, 10);
  const range = async (from, to) => {
    await page.goto(`${server.base}/orgs/${slug}/audit`);
    if (from) await page.getByLabel('From', { exact: true }).fill(from);
    if (to) await page.getByLabel('To', { exact: true }).fill(to);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/from=|to=/);
    return sentences(page);
  };
  assert.equal((await range(today, today)).length, 6, 'one day, from and to: the whole day');
  assert.deepEqual(await range(shift(1), ''), [], 'nothing from tomorrow on');
  assert.match(await page.locator('main').innerText(), /No event matches these filters/);
  await look(page, 'audit-none');
  assert.deepEqual(await range('', shift(-1)), [], 'nothing until yesterday');
  assert.equal((await range(shift(-1), '')).length, 6);

  // A filter that cannot be read is said next to its field.
  const bad = await page.goto(`${server.base}/orgs/${slug}/audit?actor=not%20an%20email`);
  assert.equal(bad.status(), 400);
  assert.equal(await page.getByLabel('Actor').getAttribute('aria-invalid'), 'true');
  assert.match(await page.locator('#f-actor-error').innerText(), /email/);
  await look(page, 'audit-bad-filter');
  await ada.context.close();
  await bob.context.close();
});

test('more than a page of events: Older and Newest follow the cursor, with the filters kept', async () => {
  const { slug, ada, bob } = await team('Pager', 'developer');
  for (let i = 0; i < 24; i += 1) {
    await ada.api('POST', `/orgs/${slug}/projects`, { name: `p${String(i).padStart(2, '0')}` }, 201);
  }
  // 2 events before the projects (created, Bob added) and 24 projects: 26, 20 a page.
  const page = ada.page;
  await page.goto(`${server.base}/orgs/${slug}/audit`);
  const one = await sentences(page);
  assert.equal(one.length, 20);
  assert.equal(one[0], 'Ada created project p23.');
  assert.equal(one[19], 'Ada created project p04.');
  assert.equal(await page.getByRole('link', { name: 'Newest events' }).count(), 0);
  await page.getByRole('link', { name: 'Older events' }).click();
  await page.waitForURL(/cursor=/);
  const two = await sentences(page);
  assert.deepEqual(two, [
    'Ada created project p03.',
    'Ada created project p02.',
    'Ada created project p01.',
    'Ada created project p00.',
    'Ada added Bob as developer.',
    `Ada created the organization Pager ${process.pid}.`,
  ]);
  assert.equal(await page.getByRole('link', { name: 'Older events' }).count(), 0, 'the oldest page has no Older');
  await look(page, 'audit-page-2');
  await page.getByRole('link', { name: 'Newest events' }).click();
  await page.waitForURL(`${server.base}/orgs/${slug}/audit`);
  assert.deepEqual(await sentences(page), one);

  // Paging a filtered log keeps the filter.
  await page.getByLabel('Action').selectOption('project.created');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/action=project\.created/);
  assert.equal((await sentences(page)).length, 20);
  await page.getByRole('link', { name: 'Older events' }).click();
  await page.waitForURL(/action=project\.created.*cursor=/);
  assert.deepEqual(await sentences(page), [
    'Ada created project p03.',
    'Ada created project p02.',
    'Ada created project p01.',
    'Ada created project p00.',
  ]);
  assert.equal(await page.getByLabel('Action').inputValue(), 'project.created');
  await ada.context.close();
  await bob.context.close();
});

test('without audit.read: no Audit link, and the same 404 page as a missing organization', async () => {
  const { slug, ada, bob } = await team('Closed', 'developer');
  const page = bob.page;
  await page.goto(`${server.base}/orgs/${slug}/projects`);
  const nav = page.getByRole('navigation', { name: 'Organization' });
  assert.equal(await nav.getByRole('link', { name: 'Projects' }).count(), 1);
  assert.equal(await page.getByRole('link', { name: 'Audit' }).count(), 0, 'no audit link anywhere');
  const r = await page.goto(`${server.base}/orgs/${slug}/audit`);
  assert.equal(r.status(), 404);
  const hidden = await page.locator('main').innerText();
  assert.doesNotMatch(hidden, /Ada|created/);
  const missing = await page.goto(`${server.base}/orgs/no-such-org-${process.pid}/audit`);
  assert.equal(missing.status(), 404);
  assert.equal(await page.locator('main').innerText(), hidden, 'the same page as for a missing organization');
  await look(page, 'audit-404');

  // Promoted to manager (which holds audit.read), the link and the page open.
  const bobId = (await ada.api('GET', `/orgs/${slug}/members`, undefined, 200)).items
    .find((m) => m.user.email === bob.email).user.id;
  await ada.api('PATCH', `/orgs/${slug}/members/${bobId}`, { roles: ['manager'] }, 200);
  await page.goto(`${server.base}/orgs/${slug}/projects`);
  await nav.getByRole('link', { name: 'Audit' }).click();
  await page.waitForURL(`${server.base}/orgs/${slug}/audit`);
  assert.equal((await sentences(page))[0], "Ada changed Bob's roles from developer to manager.");
  await ada.context.close();
  await bob.context.close();
});
