// The roles page (issue 16): custom roles as a permission matrix; permissions I do not hold are
// disabled cells (R6); a custom role's edit previewed (how many holders gain or lose what) and
// equal to the API's `?dry_run=true`; delete refused while members hold the role, with the count.

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

/** The custom role `name` as the API lists it. */
async function roleOf(owner, slug, name) {
  const r = await api(owner, 'GET', `/orgs/${slug}/roles`);
  assert.equal(r.status, 200);
  return r.body.items.find((x) => x.name === name);
}

test('the owner creates, previews, edits and deletes a custom role in the matrix', async () => {
  const { context, page } = await visitor(b);
  const owner = email('Ona');
  await signUp(page, server.base, 'Ona', owner);
  const slug = await createOrg(page, server.base, `Roles ${process.pid}`);
  await page.goto(`${server.base}/orgs/${slug}/roles`);
  assert.ok(await page.getByText('No custom roles yet.').isVisible());
  await look(page, 'roles-empty');

  // Create: the owner's own two permissions are never offered.
  const create = page.getByRole('region', { name: 'Create a custom role' });
  await create.getByLabel('Name').fill('auditor');
  assert.ok(await create.getByLabel('org.delete').isDisabled());
  await create.getByLabel('audit.read').check();
  await create.getByLabel('projects.read').check();
  await create.getByRole('button', { name: 'Create role' }).click();
  assert.match(await page.getByRole('status').innerText(), /Role auditor created/);
  const made = await roleOf(owner, slug, 'auditor');
  assert.deepEqual([...made.permissions].sort(), ['audit.read', 'projects.read']);

  // A taken name is refused next to the field, and nothing is created.
  await create.getByLabel('Name').fill('Auditor');
  await create.getByRole('button', { name: 'Create role' }).click();
  assert.match(await create.locator('.error').innerText(), /auditor/i);
  const all = (await api(owner, 'GET', `/orgs/${slug}/roles`)).body.items.filter((r) => r.kind !== 'builtin' && r.name.toLowerCase() === 'auditor');
  assert.equal(all.length, 1);

  // Two holders: one keeps projects.read through developer.
  for (const [name, roles] of [['Pia', ['auditor']], ['Quy', ['auditor', 'developer']]]) {
    const address = email(name);
    const v = await visitor(b);
    await signUp(v.page, server.base, name, address);
    await v.context.close();
    assert.equal((await api(owner, 'POST', `/orgs/${slug}/members`, { email: address, roles })).status, 201);
  }

  // The live preview as boxes change, equal to the API's dry run.
  await page.goto(`${server.base}/orgs/${slug}/roles`);
  await page.getByLabel('projects.read for auditor').uncheck();
  await page.getByLabel('billing.read for auditor').check();
  const shown = page.getByRole('region', { name: 'What this edit does' });
  await assert.doesNotReject(shown.getByText('2 members hold this role.').waitFor());
  const dry = await api(owner, 'PATCH', `/orgs/${slug}/roles/auditor?dry_run=true`, { permissions: ['audit.read', 'billing.read'] });
  assert.equal(dry.status, 200);
  assert.deepEqual(dry.body.permissions_gained, [{ permission: 'billing.read', members: 2 }]);
  assert.deepEqual(dry.body.permissions_lost, [{ permission: 'projects.read', members: 1 }]);
  const text = await shown.innerText();
  assert.match(text, /billing\.read\s+2 members gain it/);
  assert.match(text, /projects\.read\s+1 member loses it/);
  // Previewing saved nothing.
  assert.deepEqual([...(await roleOf(owner, slug, 'auditor')).permissions].sort(), ['audit.read', 'projects.read']);
  await look(page, 'roles-matrix-preview');

  await page.locator(`form#role-${made.id}`).getByRole('button', { name: 'Save' }).click();
  assert.match(await page.getByRole('status').innerText(), /Role auditor saved/);
  assert.deepEqual([...(await roleOf(owner, slug, 'auditor')).permissions].sort(), ['audit.read', 'billing.read']);

  // Delete is refused while members hold it, with how many.
  const column = page.locator('td.edit-role');
  await column.getByText('Delete').first().click();
  await column.getByRole('button', { name: 'Delete' }).click();
  assert.match(await page.getByRole('alert').innerText(), /2/);
  assert.ok(await roleOf(owner, slug, 'auditor'));
  await context.close();
});

test('a manager sees the matrix with the cells of permissions they do not hold disabled', async () => {
  const { context, page } = await visitor(b);
  const owner = email('Rae');
  await signUp(page, server.base, 'Rae', owner);
  const slug = await createOrg(page, server.base, `Matrix ${process.pid}`);
  assert.equal((await api(owner, 'POST', `/orgs/${slug}/roles`, { name: 'ops', permissions: ['projects.deploy'] })).status, 201);
  const m = await visitor(b);
  const admin = email('Sam');
  await signUp(m.page, server.base, 'Sam', admin);
  assert.equal((await api(owner, 'POST', `/orgs/${slug}/members`, { email: admin, roles: ['admin'] })).status, 201);
  await m.page.goto(`${server.base}/orgs/${slug}/roles`);
  // An admin manages roles but holds no billing permission: those cells are disabled (R6).
  assert.ok(await m.page.getByLabel('billing.read for ops').isDisabled());
  assert.ok(await m.page.getByLabel('org.transfer for ops').isDisabled());
  assert.ok(await m.page.getByLabel('audit.read for ops').isEnabled());
  assert.ok(await m.page.getByRole('navigation', { name: 'Organization' }).getByRole('link', { name: 'Roles' }).isVisible());
  await look(m.page, 'roles-admin');

  // A manager (no roles.manage) sees the matrix read-only: every cell disabled, no edit or
  // create form.
  const d = await visitor(b);
  const dev = email('Tia');
  await signUp(d.page, server.base, 'Tia', dev);
  assert.equal((await api(owner, 'POST', `/orgs/${slug}/members`, { email: dev, roles: ['manager'] })).status, 201);
  await d.page.goto(`${server.base}/orgs/${slug}/roles`);
  assert.ok(await d.page.getByLabel('projects.deploy for ops').isDisabled());
  assert.equal(await d.page.getByRole('button', { name: 'Create role' }).count(), 0);
  assert.equal(await d.page.getByRole('button', { name: 'Save' }).count(), 0);
  await look(d.page, 'roles-manager');
  // Forging the edit anyway (a valid CSRF token, the manager's own session) is refused by the
  // service, and nothing changes.
  const ops = await roleOf(owner, slug, 'ops');
  const forged = await d.page.evaluate(async ({ slug: s, id }) => {
    const csrf = document.querySelector('input[name="csrf"]').value;
    const body = new URLSearchParams({ csrf, name: 'ops', permissions: 'projects.read' });
    const r = await fetch(`/orgs/${s}/roles/${id}`, { method: 'POST', body });
    return r.status;
  }, { slug, id: ops.id });
  assert.equal(forged, 403);
  assert.deepEqual((await roleOf(owner, slug, 'ops')).permissions, ['projects.deploy']);
  await context.close();
  await m.context.close();
  await d.context.close();
});

test('without script, Preview opens the impact as a page and Save there saves', async () => {
  const context = await b.newContext({ viewport: { width: 1280, height: 800 }, javaScriptEnabled: false });
  const page = await context.newPage();
  const owner = email('Uma');
  await signUp(page, server.base, 'Uma', owner);
  const slug = await createOrg(page, server.base, `Plain roles ${process.pid}`);
  assert.equal((await api(owner, 'POST', `/orgs/${slug}/roles`, { name: 'viewer', permissions: ['projects.read'] })).status, 201);
  const role = await roleOf(owner, slug, 'viewer');
  await page.goto(`${server.base}/orgs/${slug}/roles`);
  await page.getByLabel('audit.read for viewer').check();
  await page.locator(`form#role-${role.id}`).getByRole('button', { name: 'Preview' }).click();
  await page.waitForURL(/\/preview$/);
  assert.match(await page.getByRole('region', { name: 'What this edit does' }).innerText(), /0 members hold this role/);
  await lookWithoutScript(b, page, 'roles-preview-page');
  assert.deepEqual((await roleOf(owner, slug, 'viewer')).permissions, ['projects.read']);
  await page.getByRole('button', { name: 'Save' }).click();
  assert.match(await page.getByRole('status').innerText(), /Role viewer saved/);
  assert.deepEqual([...(await roleOf(owner, slug, 'viewer')).permissions].sort(), ['audit.read', 'projects.read']);
  await context.close();
});
