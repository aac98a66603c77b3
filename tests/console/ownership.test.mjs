// Ownership transfer, effective permissions, the organization switcher and the navigation, in
// Debian's Chromium against a real `guildhall serve` (issue 14).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PASSWORD, apiAs, browser, createOrg, email, look, mailsTo, signUp, startServer, visitor,
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

test('ownership is offered on an admin row and accepted by the receiver in a second browser', async () => {
  const owner = await visitor(b);
  const ownerEmail = email('Uma');
  await signUp(owner.page, server.base, 'Uma', ownerEmail);
  const name = `Handover ${process.pid}`;
  const slug = await createOrg(owner.page, server.base, name);
  const admin = await visitor(b);
  const adminEmail = email('Vic');
  await signUp(admin.page, server.base, 'Vic', adminEmail);
  const dev = email('Wes');
  const devCtx = await visitor(b);
  await signUp(devCtx.page, server.base, 'Wes', dev);
  assert.equal((await api(ownerEmail, 'POST', `/orgs/${slug}/members`, { email: adminEmail, roles: ['admin'] })).status, 201);
  assert.equal((await api(ownerEmail, 'POST', `/orgs/${slug}/members`, { email: dev, roles: ['developer'] })).status, 201);

  await owner.page.goto(`${server.base}/orgs/${slug}/members`);
  // Only an admin's row offers it.
  assert.equal(await owner.page.getByRole('row').filter({ hasText: dev }).getByRole('link', { name: 'Transfer ownership' }).count(), 0);
  await owner.page.getByRole('row').filter({ hasText: adminEmail }).getByRole('link', { name: 'Transfer ownership' }).click();
  assert.match(await owner.page.locator('main').innerText(), /Offer ownership of/);
  await look(owner.page, 'transfer-confirm');
  await owner.page.getByRole('button', { name: 'Transfer ownership' }).click();
  assert.match(await owner.page.getByRole('status').innerText(), /Ownership offered to Vic/);
  await look(owner.page, 'transfer-pending');

  // The receiver follows the mailed link.
  let offerMail;
  for (let i = 0; i < 100 && !offerMail; i += 1) {
    offerMail = mailsTo(server, adminEmail).find((m) => m.includes(`/orgs/${slug}/transfer`));
    if (!offerMail) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(offerMail, 'the receiver is mailed the link to the offer');
  await admin.page.goto(`${server.base}/orgs/${slug}/transfer`);
  await look(admin.page, 'transfer-receiver');
  await admin.page.getByRole('button', { name: 'Accept' }).click();
  assert.match(await admin.page.getByRole('status').innerText(), /You are now the owner/);
  const org = await api(adminEmail, 'GET', `/orgs/${slug}`);
  assert.equal(org.body.owner.email, adminEmail);
  const members = await api(adminEmail, 'GET', `/orgs/${slug}/members`);
  const former = members.body.items.find((m) => m.user.email === ownerEmail);
  assert.deepEqual(former.roles, ['admin'], 'the former owner stays as an admin');
  await owner.context.close();
  await admin.context.close();
  await devCtx.context.close();
});

test('a member sees their effective permissions with their sources', async () => {
  const owner = await visitor(b);
  const ownerEmail = email('Xan');
  await signUp(owner.page, server.base, 'Xan', ownerEmail);
  const slug = await createOrg(owner.page, server.base, `Perms ${process.pid}`);
  const m = await visitor(b);
  const memberEmail = email('Yul');
  await signUp(m.page, server.base, 'Yul', memberEmail);
  await api(ownerEmail, 'POST', `/orgs/${slug}/members`, { email: memberEmail, roles: ['developer'] });
  await api(ownerEmail, 'POST', `/orgs/${slug}/projects`, { name: 'web' });

  await owner.page.goto(`${server.base}/orgs/${slug}/members`);
  await owner.page.getByRole('link', { name: 'Yul' }).click();
  const table = owner.page.getByRole('table', { name: 'Permissions of Yul' });
  assert.match(await table.getByRole('row').filter({ hasText: 'org.read' }).innerText(), /membership/);
  assert.match(await table.getByRole('row').filter({ hasText: 'projects.deploy' }).innerText(), /role developer/);
  assert.equal(await table.getByRole('row').filter({ hasText: 'members.manage' }).count(), 0);
  assert.match(await owner.page.locator('main').innerText(), /Every project as/);
  await look(owner.page, 'member-permissions');
  await owner.context.close();
  await m.context.close();
});

test('the switcher lists my organizations personal first; the navigation shows only what I may open', async () => {
  const owner = await visitor(b);
  const ownerEmail = email('Zed');
  await signUp(owner.page, server.base, 'Zed', ownerEmail);
  const slug = await createOrg(owner.page, server.base, `Nav ${process.pid}`);
  const dev = await visitor(b);
  const devEmail = email('Abe');
  await signUp(dev.page, server.base, 'Abe', devEmail);
  await api(ownerEmail, 'POST', `/orgs/${slug}/members`, { email: devEmail, roles: ['developer'] });

  await dev.page.goto(`${server.base}/orgs/${slug}/members`);
  const switcher = dev.page.locator('details.switcher');
  await switcher.locator('summary').click();
  const names = await switcher.getByRole('link').allInnerTexts();
  assert.equal(names.length, 2, names.join());
  assert.match(names[0], /Abe/, 'personal organization first');
  const tabs = await dev.page.getByRole('navigation', { name: 'Organization' }).getByRole('link').allInnerTexts();
  assert.deepEqual(tabs, ['Projects', 'Members', 'Groups', 'Roles'], 'a developer is not offered invitations or settings');
  // And what the navigation does not offer answers the 404 page.
  assert.equal((await dev.page.goto(`${server.base}/orgs/${slug}/settings`)).status(), 404);
  assert.equal((await dev.page.goto(`${server.base}/orgs/${slug}/invitations`)).status(), 404);
  // A developer reads members but is offered no way to change them.
  await dev.page.goto(`${server.base}/orgs/${slug}/members`);
  assert.equal(await dev.page.getByText('Change roles').count(), 0);
  assert.equal(await dev.page.getByRole('form', { name: 'Invite' }).count(), 0);

  await owner.page.goto(`${server.base}/orgs/${slug}/members`);
  const ownerTabs = await owner.page.getByRole('navigation', { name: 'Organization' }).getByRole('link').allInnerTexts();
  // The owner holds billing.read: Billing is offered (R8); and audit.read: Audit.
  assert.deepEqual(ownerTabs, ['Projects', 'Members', 'Invitations', 'Groups', 'Roles', 'Billing', 'Audit', 'Settings']);
  await owner.context.close();
  await dev.context.close();
});

test('signing in works by keyboard alone, with a visible focus ring', async () => {
  const { context, page } = await visitor(b);
  const me = email('Bea');
  await signUp(page, server.base, 'Bea', me);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${server.base}/signin`);
  await page.keyboard.press('Tab');
  const first = await page.evaluate(() => ({
    text: document.activeElement.textContent,
    outline: getComputedStyle(document.activeElement).outlineStyle,
  }));
  assert.equal(first.text, 'Skip to content', 'the skip link comes first');
  assert.notEqual(first.outline, 'none', 'focus is visible');
  for (let i = 0; i < 12; i += 1) {
    if (await page.evaluate(() => document.activeElement.name) === 'email') break;
    await page.keyboard.press('Tab');
  }
  assert.equal(await page.evaluate(() => document.activeElement.name), 'email');
  assert.notEqual(await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle), 'none');
  await page.keyboard.type(me);
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.waitForURL(`${server.base}/orgs`);
  await context.close();
});

test('the Organizations page pages past 100 organizations', async () => {
  const { context, page } = await visitor(b);
  const me = email('Cal');
  await signUp(page, server.base, 'Cal', me);
  for (let i = 0; i < 101; i += 1) {
    const r = await api(me, 'POST', '/orgs', { name: `Paged ${process.pid} ${String(i).padStart(3, '0')}` });
    assert.equal(r.status, 201);
  }
  await page.goto(`${server.base}/orgs`);
  const first = await page.getByRole('row').filter({ hasText: `Paged ${process.pid}` }).count();
  assert.equal(first, 99, 'the personal organization and 99 others on the first page');
  await page.getByRole('link', { name: 'Next page' }).click();
  const rest = await page.getByRole('row').filter({ hasText: `Paged ${process.pid}` }).allInnerTexts();
  assert.equal(rest.length, 2);
  assert.match(rest[1], /Paged \d+ 100/);
  assert.equal(await page.getByRole('link', { name: 'Next page' }).count(), 0);
  await context.close();
});
