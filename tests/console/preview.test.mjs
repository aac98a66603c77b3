// The role-change preview (issue 16): before a member's roles are saved, the row shows what the
// change would do, as the boxes change; it equals the API's `?dry_run=true` and what the change
// then does. Without script, "Preview" opens the same preview as a page with Save under it.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  apiAs, browser, createOrg, email, look, lookWithoutScript, signUp, startServer, visitor,
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

/** The organization permissions of `user`, as the API explains them. */
async function permissionsOf(owner, slug, user) {
  const r = await api(owner, 'GET', `/orgs/${slug}/members/${user}/permissions`);
  assert.equal(r.status, 200);
  return r.body.permissions.map((p) => p.permission);
}

test('the preview shown before saving equals what the change then does', async () => {
  const { context, page } = await visitor(b);
  const owner = email('Quin');
  await signUp(page, server.base, 'Quin', owner);
  const slug = await createOrg(page, server.base, `Preview ${process.pid}`);
  const dev = email('Rui');
  const d = await visitor(b);
  await signUp(d.page, server.base, 'Rui', dev);
  const added = await api(owner, 'POST', `/orgs/${slug}/members`, { email: dev, roles: ['developer'] });
  assert.equal(added.status, 201);
  const user = added.body.user.id;
  for (const name of ['api', 'web']) {
    assert.equal((await api(owner, 'POST', `/orgs/${slug}/projects`, { name })).status, 201);
  }

  await page.goto(`${server.base}/orgs/${slug}/members`);
  const row = page.getByRole('row').filter({ hasText: dev });
  await row.getByText('Change roles').click();
  const shown = row.getByRole('region', { name: 'What this change does' });
  await assert.doesNotReject(shown.getByText('Nothing changes.').waitFor());
  await row.getByLabel('admin').check();
  await row.getByLabel('developer').uncheck();
  await assert.doesNotReject(shown.getByText('Roles added').waitFor());

  // What the row shows is the API's preview, word for word.
  const dry = await api(owner, 'PATCH', `/orgs/${slug}/members/${user}?dry_run=true`, { roles: ['admin'] });
  assert.equal(dry.status, 200);
  const text = await shown.innerText();
  for (const p of [...dry.body.permissions_gained, ...dry.body.permissions_lost]) {
    assert.ok(text.includes(p), `${p} not in the preview: ${text}`);
  }
  assert.ok(dry.body.permissions_gained.includes('members.manage'));
  const projects = await shown.getByRole('table', { name: 'Projects whose access changes' }).innerText();
  for (const c of dry.body.projects) {
    assert.match(projects, new RegExp(`${c.project.name}\\s+${c.before ?? 'no access'}\\s+${c.after}`));
  }
  assert.equal(dry.body.projects.length, 2);
  await look(page, 'members-preview');

  // Saving makes exactly the previewed change.
  const before = await permissionsOf(owner, slug, user);
  await row.getByRole('button', { name: 'Save' }).click();
  assert.match(await page.getByRole('status').innerText(), /Roles of Rui saved/);
  const afterChange = await permissionsOf(owner, slug, user);
  assert.deepEqual(afterChange.filter((p) => !before.includes(p)), dry.body.permissions_gained);
  assert.deepEqual(before.filter((p) => !afterChange.includes(p)), dry.body.permissions_lost);
  await context.close();
  await d.context.close();
});

test('without script, Preview opens the preview as a page and Save there saves', async () => {
  const context = await b.newContext({ viewport: { width: 1280, height: 800 }, javaScriptEnabled: false });
  const page = await context.newPage();
  const owner = email('Sol');
  await signUp(page, server.base, 'Sol', owner);
  const slug = await createOrg(page, server.base, `Plain ${process.pid}`);
  const other = await visitor(b);
  const member = email('Tam');
  await signUp(other.page, server.base, 'Tam', member);
  const added = await api(owner, 'POST', `/orgs/${slug}/members`, { email: member, roles: ['member'] });
  assert.equal(added.status, 201);

  await page.goto(`${server.base}/orgs/${slug}/members`);
  const row = page.getByRole('row').filter({ hasText: member });
  await row.getByText('Change roles').click();
  await row.getByLabel('manager').check();
  await row.getByRole('button', { name: 'Preview' }).click();
  await page.waitForURL(/\/preview$/);
  const shown = page.getByRole('region', { name: 'What this change does' });
  assert.match(await shown.innerText(), /Roles added\s+manager/);
  await lookWithoutScript(b, page, 'members-preview-page');
  // Nothing is saved by the preview.
  const still = await api(owner, 'GET', `/orgs/${slug}/members`);
  assert.deepEqual(still.body.items.find((m) => m.user.email === member).roles, ['member']);
  await page.getByRole('button', { name: 'Save' }).click();
  assert.match(await page.getByRole('status').innerText(), /Roles of Tam saved/);
  const now = await api(owner, 'GET', `/orgs/${slug}/members`);
  assert.deepEqual(now.body.items.find((m) => m.user.email === member).roles.sort(), ['manager', 'member']);
  await context.close();
  await other.context.close();
});
