// The projects pages (issue 16): the projects I reach with my role on each, create, a project's
// page with its plan editor (the catalog's limits said in words next to the field), rename,
// delete, and direct project roles (R6, R11: a project I do not reach is the one 404 page).

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

/** An organization with an owner and one person per role given; answers their contexts. */
async function team(prefix, roles = {}) {
  const owner = await visitor(b);
  const ownerEmail = email(`${prefix}o`);
  await signUp(owner.page, server.base, `${prefix} Owner`, ownerEmail);
  const slug = await createOrg(owner.page, server.base, `${prefix} ${process.pid}`);
  const people = {};
  for (const [who, role] of Object.entries(roles)) {
    const ctx = await visitor(b);
    const address = email(`${prefix}${who}`);
    await signUp(ctx.page, server.base, who, address);
    const added = await api(ownerEmail, 'POST', `/orgs/${slug}/members`, { email: address, roles: [role] });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    people[who] = { ...ctx, email: address, id: added.body.user.id };
  }
  return { slug, owner: { ...owner, email: ownerEmail }, people };
}

/** The text of the one 404 page, as a missing organization answers it. */
async function notFoundText(page) {
  const r = await page.goto(`${server.base}/orgs/no-such-org-${process.pid}/projects`);
  assert.equal(r.status(), 404);
  return page.locator('main').innerText();
}

/** The names in my projects list, in order. */
async function listed(page, slug) {
  await page.goto(`${server.base}/orgs/${slug}/projects`);
  return page.locator('main table.list tbody tr td:first-child').allInnerTexts();
}

test('create a project and set its plan; an over-limit amount is refused in words and changes nothing', async () => {
  const { slug, owner } = await team('Plan');
  const page = owner.page;
  await page.goto(`${server.base}/orgs/${slug}/projects`);
  assert.match(await page.locator('main').innerText(), /No project yet/);
  await look(page, 'projects-empty');

  await page.getByLabel('Name').fill('Website');
  await page.getByRole('button', { name: 'Create project' }).click();
  await page.waitForURL(`${server.base}/orgs/${slug}/projects/Website`);
  assert.match(await page.getByRole('status').innerText(), /Project Website created/);
  const facts = page.locator('main dl.facts');
  assert.match(await facts.innerText(), /Tier\s+free/);
  // Each tier's limits are shown.
  const pro = page.locator('table.tiers tr').filter({ hasText: /^pro/ });
  assert.match(await pro.innerText(), /50 included, up to 500/);
  await look(page, 'project-page');

  const plan = page.locator('form[action$="/plan"]');
  await plan.getByLabel('Tier').selectOption('pro');
  await plan.getByLabel('Storage (GB)').fill('100');
  await plan.getByLabel('Environments').fill('5');
  await plan.getByLabel('Licenses').fill('10');
  await plan.getByRole('button', { name: 'Save' }).click();
  assert.match(await page.getByRole('status').innerText(), /Plan of Website saved: pro, 100 GB/);

  await page.reload();
  assert.equal(await page.getByRole('status').count(), 0, 'the message is shown once');
  const text = await facts.innerText();
  assert.match(text, /Tier\s+pro/);
  assert.match(text, /Storage\s+100 GB/);
  assert.match(text, /Environments\s+5/);
  assert.match(text, /Licenses\s+10/);
  assert.equal(await plan.getByLabel('Tier').inputValue(), 'pro');
  assert.equal(await plan.getByLabel('Storage (GB)').inputValue(), '100');
  const saved = await api(owner.email, 'GET', `/orgs/${slug}/projects/Website/plan`);
  assert.equal(saved.status, 200);
  assert.deepEqual(
    [saved.body.tier, saved.body.storage_gb, saved.body.environments, saved.body.licenses],
    ['pro', 100, 5, 10],
  );

  // Over the pro tier's 500 GB: refused next to the field, what was typed kept, nothing saved.
  await plan.getByLabel('Storage (GB)').fill('501');
  await plan.getByRole('button', { name: 'Save' }).click();
  const storage = plan.getByLabel('Storage (GB)');
  assert.equal(await storage.getAttribute('aria-invalid'), 'true');
  const described = await storage.getAttribute('aria-describedby');
  assert.match(await page.locator(`#${described}`).innerText(), /Storage \(GB\) is over the pro tier's limit of 500/);
  assert.equal(await storage.inputValue(), '501');
  assert.match(await facts.innerText(), /Storage\s+100 GB/);
  await look(page, 'project-plan-refused');
  const unchanged = await api(owner.email, 'GET', `/orgs/${slug}/projects/Website/plan`);
  assert.equal(unchanged.body.storage_gb, 100);
  assert.equal(unchanged.body.since, saved.body.since, 'no new plan period');

  // A negative amount is refused in words too.
  await plan.getByLabel('Licenses').fill('-1');
  await plan.getByLabel('Storage (GB)').fill('100');
  await plan.getByRole('button', { name: 'Save' }).click();
  assert.equal(await plan.getByLabel('Licenses').getAttribute('aria-invalid'), 'true');
  assert.match(await plan.innerText(), /Licenses must not be negative/);
  assert.equal((await api(owner.email, 'GET', `/orgs/${slug}/projects/Website/plan`)).body.licenses, 10);

  // The list shows it, with my role and where it comes from.
  await page.goto(`${server.base}/orgs/${slug}/projects`);
  const row = page.getByRole('row').filter({ hasText: 'Website' });
  assert.match(await row.innerText(), /admin/);
  assert.match(await row.innerText(), /role owner/);
  await row.getByRole('link', { name: 'Website' }).click();
  await page.waitForURL(`${server.base}/orgs/${slug}/projects/Website`);
  await page.goto(`${server.base}/orgs/${slug}/projects`);
  await look(page, 'projects-list');
});

test('rename a project (a taken name refused next to the field) and delete it after confirming', async () => {
  const { slug, owner } = await team('Rename');
  const page = owner.page;
  for (const name of ['Alpha', 'Gamma']) {
    assert.equal((await api(owner.email, 'POST', `/orgs/${slug}/projects`, { name })).status, 201);
  }
  await page.goto(`${server.base}/orgs/${slug}/projects/Alpha`);
  const rename = page.locator('form[action$="/rename"]');
  await rename.getByLabel('Name').fill('gamma');
  await rename.getByRole('button', { name: 'Rename' }).click();
  const name = rename.getByLabel('Name');
  assert.equal(await name.getAttribute('aria-invalid'), 'true');
  assert.match(await rename.innerText(), /taken/);
  assert.equal(await name.inputValue(), 'gamma');
  await look(page, 'project-rename-refused');
  assert.equal((await api(owner.email, 'GET', `/orgs/${slug}/projects/Alpha`)).status, 200, 'nothing renamed');

  await name.fill('Beta / Web');
  await rename.getByRole('button', { name: 'Rename' }).click();
  await page.waitForURL(`${server.base}/orgs/${slug}/projects/Beta%20%2F%20Web`);
  assert.match(await page.getByRole('status').innerText(), /Project Alpha renamed to Beta \/ Web/);
  assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Beta / Web');
  assert.equal((await api(owner.email, 'GET', `/orgs/${slug}/projects/Alpha`)).status, 404);
  const gone = await page.goto(`${server.base}/orgs/${slug}/projects/Alpha`);
  assert.equal(gone.status(), 404);
  assert.deepEqual(await listed(page, slug), ['Beta / Web', 'Gamma']);

  await page.getByRole('link', { name: 'Beta / Web' }).click();
  const zone = page.locator('section.danger-zone');
  await zone.locator('summary', { hasText: 'Delete' }).click();
  assert.match(await zone.innerText(), /Delete Beta \/ Web\? This cannot be undone/);
  await zone.getByRole('button', { name: 'Delete' }).click();
  await page.waitForURL(`${server.base}/orgs/${slug}/projects`);
  assert.match(await page.getByRole('status').innerText(), /Project Beta \/ Web deleted/);
  assert.deepEqual(await listed(page, slug), ['Gamma']);
  const projects = await api(owner.email, 'GET', `/orgs/${slug}/projects`);
  assert.deepEqual(projects.body.items.map((p) => p.name), ['Gamma']);
});

test('a direct project role given to a member opens that project alone to them; changed, then taken', async () => {
  const { slug, owner, people } = await team('Direct', { Mo: 'member' });
  const mo = people.Mo.page;
  for (const name of ['Shop', 'Secret']) {
    assert.equal((await api(owner.email, 'POST', `/orgs/${slug}/projects`, { name })).status, 201);
  }
  const missing = await notFoundText(mo);
  assert.deepEqual(await listed(mo, slug), []);
  assert.match(await mo.locator('main').innerText(), /No project is open to you here yet/);
  assert.equal(await mo.getByRole('button', { name: 'Create project' }).count(), 0, 'a member creates nothing');
  const hidden = await mo.goto(`${server.base}/orgs/${slug}/projects/Shop`);
  assert.equal(hidden.status(), 404);
  assert.equal(await mo.locator('main').innerText(), missing, 'the same page as a missing organization');

  const page = owner.page;
  await page.goto(`${server.base}/orgs/${slug}/projects/Shop`);
  const roles = page.locator('section', { has: page.getByRole('heading', { name: 'Direct project roles' }) });
  // The owner holds admin there (the creator's role) and cannot change their own.
  const mine = roles.getByRole('row').filter({ hasText: 'Direct Owner' });
  assert.equal(await mine.getByText('Change role').count(), 0);
  const add = page.locator('form[action$="/members"]');
  await add.getByLabel('Member').selectOption({ label: `Mo (${people.Mo.email})` });
  await add.getByLabel('Role').selectOption('contributor');
  await add.getByRole('button', { name: 'Add' }).click();
  assert.match(await page.getByRole('status').innerText(), /Mo is now contributor on Shop/);
  const row = roles.getByRole('row').filter({ hasText: people.Mo.email });
  assert.match(await row.innerText(), /contributor/);
  await look(page, 'project-roles');

  const rows = await listed(mo, slug);
  assert.deepEqual(rows, ['Shop'], 'Shop only, not Secret');
  const listRow = mo.getByRole('row').filter({ hasText: 'Shop' });
  assert.match(await listRow.innerText(), /contributor/);
  assert.match(await listRow.innerText(), /direct role/);
  await look(mo, 'projects-member');
  assert.equal((await mo.goto(`${server.base}/orgs/${slug}/projects/Secret`)).status(), 404);
  const open = await mo.goto(`${server.base}/orgs/${slug}/projects/Shop`);
  assert.equal(open.status(), 200);
  // A contributor without members.read or plans.manage: the plan read-only, no other control.
  for (const button of ['Save', 'Rename', 'Delete', 'Add']) {
    assert.equal(await mo.getByRole('button', { name: button }).count(), 0, `no ${button} for a contributor`);
  }
  assert.equal(await mo.getByRole('heading', { name: 'Direct project roles' }).count(), 0);
  assert.match(await mo.locator('main').innerText(), /Tier\s+free/);
  await look(mo, 'project-contributor');
  // A plan change posted anyway, with a valid CSRF token (the sign-out form's), is refused in
  // words and changes nothing: the service decides, not the missing form.
  const answer = mo.waitForResponse((r) => r.url().endsWith('/projects/Shop/plan') && r.request().method() === 'POST');
  await mo.evaluate(() => {
    const form = document.createElement('form');
    form.method = 'post';
    form.action = `${location.pathname}/plan`;
    const csrf = document.querySelector('form[action="/signout"] input[name="csrf"]').cloneNode();
    form.append(csrf, Object.assign(document.createElement('input'), { name: 'tier', value: 'enterprise' }));
    document.body.append(form);
    form.submit();
  });
  const response = await answer;
  assert.equal(response.status(), 403);
  assert.match(await response.text(), /plans\.manage/);
  assert.equal((await api(owner.email, 'GET', `/orgs/${slug}/projects/Shop/plan`)).body.tier, 'free');

  await page.goto(`${server.base}/orgs/${slug}/projects/Shop`);
  await row.locator('summary', { hasText: 'Change role' }).click();
  await row.getByLabel('Role').selectOption('viewer');
  await row.getByRole('button', { name: 'Save' }).click();
  assert.match(await page.getByRole('status').innerText(), /Mo is now viewer on Shop/);
  const reach = await api(people.Mo.email, 'GET', `/orgs/${slug}/projects/Shop`);
  assert.equal(reach.body.my_role, 'viewer');

  await row.locator('summary', { hasText: 'Remove' }).click();
  await row.getByRole('button', { name: 'Remove' }).click();
  assert.match(await page.getByRole('status').innerText(), /Mo no longer holds a direct role on Shop/);
  assert.equal(await roles.getByRole('row').filter({ hasText: people.Mo.email }).count(), 0);
  assert.deepEqual(await listed(mo, slug), []);
  assert.equal((await mo.goto(`${server.base}/orgs/${slug}/projects/Shop`)).status(), 404);
});
