// The groups pages (issue 16): groups with member and project counts, a group's members and its
// projects with a project role; a member whose only way to a project is a group reaches that
// project alone (R11), and the others answer the one 404 page.

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

/** The names in my projects list, in order. */
async function listed(page, slug) {
  await page.goto(`${server.base}/orgs/${slug}/projects`);
  return page.locator('main table.list tbody tr td:first-child').allInnerTexts();
}

test('a member whose only way in is a group reaches the group\'s project alone, until it is taken from the group', async () => {
  const { slug, owner, people } = await team('Crew', { Gus: 'member' });
  for (const name of ['Api', 'Billing', 'Docs']) {
    assert.equal((await api(owner.email, 'POST', `/orgs/${slug}/projects`, { name })).status, 201);
  }
  const page = owner.page;
  await page.goto(`${server.base}/orgs/${slug}/projects`);
  await page.getByRole('navigation', { name: 'Organization' }).getByRole('link', { name: 'Groups' }).click();
  await page.waitForURL(`${server.base}/orgs/${slug}/groups`);
  assert.match(await page.locator('main').innerText(), /No group yet/);
  await look(page, 'groups-empty');

  await page.getByLabel('Name').fill('Ops');
  await page.getByRole('button', { name: 'Create group' }).click();
  await page.waitForURL(`${server.base}/orgs/${slug}/groups/Ops`);
  assert.match(await page.getByRole('status').innerText(), /Group Ops created/);
  await look(page, 'group-empty');

  const addMember = page.locator('form[action$="/members"]');
  await addMember.getByLabel('Member').selectOption({ label: `Gus (${people.Gus.email})` });
  await addMember.getByRole('button', { name: 'Add member' }).click();
  assert.match(await page.getByRole('status').innerText(), /Gus added to Ops/);
  const addProject = page.locator('form[action$="/projects"]');
  await addProject.getByLabel('Project').selectOption({ label: 'Api' });
  await addProject.getByLabel('Role').selectOption('contributor');
  await addProject.getByRole('button', { name: 'Add project' }).click();
  assert.match(await page.getByRole('status').innerText(), /Ops now gives contributor on Api/);
  const projects = page.locator('section', { has: page.getByRole('heading', { name: 'Projects', exact: true }) });
  const apiRow = projects.getByRole('row').filter({ hasText: 'Api' });
  assert.match(await apiRow.innerText(), /contributor/);
  await look(page, 'group-page');
  const group = await api(owner.email, 'GET', `/orgs/${slug}/groups/Ops`);
  assert.deepEqual(group.body.members.map((m) => m.email), [people.Gus.email]);

  await page.getByRole('link', { name: 'Back to the groups' }).click();
  const row = page.getByRole('row').filter({ hasText: 'Ops' });
  assert.match(await row.innerText(), /^Ops\s+1 member\s+1 project$/);
  await look(page, 'groups-list');

  // Gus reaches Api through Ops, and nothing else.
  const gus = people.Gus.page;
  assert.deepEqual(await listed(gus, slug), ['Api']);
  const listRow = gus.getByRole('row').filter({ hasText: 'Api' });
  assert.match(await listRow.innerText(), /contributor/);
  assert.match(await listRow.innerText(), /group Ops/);
  await look(gus, 'projects-through-group');
  const missing = await gus.goto(`${server.base}/orgs/no-such-org-${process.pid}/projects`);
  assert.equal(missing.status(), 404);
  const notFound = await gus.locator('main').innerText();
  for (const other of ['Billing', 'Docs']) {
    const r = await gus.goto(`${server.base}/orgs/${slug}/projects/${other}`);
    assert.equal(r.status(), 404, `${other} is not Gus's`);
    assert.equal(await gus.locator('main').innerText(), notFound, 'the same 404 page as a missing organization');
  }
  assert.equal((await gus.goto(`${server.base}/orgs/${slug}/projects/Api`)).status(), 200);
  // A plain member does not read groups: no tab, and the pages are the 404 page.
  assert.equal(await gus.getByRole('navigation', { name: 'Organization' }).getByRole('link', { name: 'Groups' }).count(), 0);
  assert.equal((await gus.goto(`${server.base}/orgs/${slug}/groups`)).status(), 404);
  assert.equal((await gus.goto(`${server.base}/orgs/${slug}/groups/Ops`)).status(), 404);

  // The role the group gives changes, and Gus's with it.
  await page.goto(`${server.base}/orgs/${slug}/groups/Ops`);
  await apiRow.locator('summary', { hasText: 'Change role' }).click();
  await apiRow.getByLabel('Role').selectOption('viewer');
  await apiRow.getByRole('button', { name: 'Save' }).click();
  assert.match(await page.getByRole('status').innerText(), /Ops now gives viewer on Api/);
  assert.equal((await api(people.Gus.email, 'GET', `/orgs/${slug}/projects/Api`)).body.my_role, 'viewer');

  // Taken from the group: gone from Gus's list.
  await apiRow.locator('summary', { hasText: 'Remove' }).click();
  await apiRow.getByRole('button', { name: 'Remove' }).click();
  assert.match(await page.getByRole('status').innerText(), /Api taken from Ops/);
  assert.equal(await projects.getByRole('row').filter({ hasText: 'Api' }).count(), 0);
  assert.deepEqual(await listed(gus, slug), []);
  assert.equal((await gus.goto(`${server.base}/orgs/${slug}/projects/Api`)).status(), 404);

  // And Gus out of the group.
  await page.goto(`${server.base}/orgs/${slug}/groups/Ops`);
  const members = page.locator('section', { has: page.getByRole('heading', { name: 'Members', exact: true }) });
  const gusRow = members.getByRole('row').filter({ hasText: people.Gus.email });
  await gusRow.locator('summary', { hasText: 'Remove' }).click();
  await gusRow.getByRole('button', { name: 'Remove' }).click();
  assert.match(await page.getByRole('status').innerText(), /Gus taken out of Ops/);
  assert.equal((await api(owner.email, 'GET', `/orgs/${slug}/groups/Ops`)).body.members.length, 0);
});

test('rename a group (a taken name refused next to the field) and delete it after confirming', async () => {
  const { slug, owner } = await team('Guild');
  for (const name of ['Dev', 'QA']) {
    assert.equal((await api(owner.email, 'POST', `/orgs/${slug}/groups`, { name })).status, 201);
  }
  const page = owner.page;
  await page.goto(`${server.base}/orgs/${slug}/groups/Dev`);
  const rename = page.locator('form[action$="/rename"]');
  await rename.getByLabel('Name').fill('qa');
  await rename.getByRole('button', { name: 'Rename' }).click();
  const name = rename.getByLabel('Name');
  assert.equal(await name.getAttribute('aria-invalid'), 'true');
  assert.match(await rename.innerText(), /taken/);
  await look(page, 'group-rename-refused');
  assert.equal((await api(owner.email, 'GET', `/orgs/${slug}/groups/Dev`)).status, 200);

  await name.fill('Developers');
  await rename.getByRole('button', { name: 'Rename' }).click();
  await page.waitForURL(`${server.base}/orgs/${slug}/groups/Developers`);
  assert.match(await page.getByRole('status').innerText(), /Group Dev renamed to Developers/);
  assert.equal((await api(owner.email, 'GET', `/orgs/${slug}/groups/Dev`)).status, 404);

  const zone = page.locator('section.danger-zone');
  await zone.locator('summary', { hasText: 'Delete' }).click();
  await zone.getByRole('button', { name: 'Delete' }).click();
  await page.waitForURL(`${server.base}/orgs/${slug}/groups`);
  assert.match(await page.getByRole('status').innerText(), /Group Developers deleted/);
  assert.deepEqual(await page.locator('main table.list tbody tr td:first-child').allInnerTexts(), ['QA']);
  const left = await api(owner.email, 'GET', `/orgs/${slug}/groups`);
  assert.deepEqual(left.body.items.map((g) => g.name), ['QA']);
});
