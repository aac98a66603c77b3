// The console's pages about people, in Debian's Chromium against a real `guildhall serve`
// (issue 14): accounts, organizations, members and invitations, one test per flow.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PASSWORD, browser, createOrg, email, linkIn, look, signIn, signUp, startServer, visitor,
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

/** A session token for `address` from the API, to set up what the console does not yet do. */
async function apiToken(address) {
  const r = await fetch(`${server.base}/api/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: address, password: PASSWORD }),
  });
  assert.equal(r.status, 201);
  return (await r.json()).token;
}

async function api(token, method, path, body) {
  const r = await fetch(`${server.base}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: r.status === 204 ? null : await r.json() };
}

describe('accounts', () => {
  test('sign up lists my personal organization', async () => {
    const { context, page } = await visitor(b);
    await page.goto(`${server.base}/`);
    await page.waitForURL(`${server.base}/signin`);
    await look(page, 'signin');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await look(page, 'signup');
    const me = email('Ada');
    await signUp(page, server.base, 'Ada Lovelace', me);
    await assert.doesNotReject(page.getByRole('status').filter({ hasText: 'personal organization' }).waitFor());
    const row = page.getByRole('row').filter({ hasText: 'personal' });
    await assert.doesNotReject(row.waitFor());
    assert.match(await row.innerText(), /owner/);
    await look(page, 'orgs');
    await context.close();
  });

  test('a refused sign-up says why next to the field and keeps what was typed', async () => {
    const { context, page } = await visitor(b);
    await page.goto(`${server.base}/signup`);
    await page.getByLabel('Name').fill('Bob');
    await page.getByLabel('Email').fill(email('Bob'));
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Sign up' }).click();
    const error = page.locator('#f-new_password-error');
    assert.match(await error.innerText(), /at least \d+ characters/);
    assert.equal(await page.getByLabel('Name').inputValue(), 'Bob');
    await look(page, 'signup-refused');
    await context.close();
  });

  test('sign in and sign out; a wrong password is said in words', async () => {
    const { context, page } = await visitor(b);
    const me = email('Cy');
    await signUp(page, server.base, 'Cy', me);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${server.base}/signin`);
    assert.match(await page.getByRole('status').innerText(), /signed out/);
    // The session ended server-side: /orgs sends me to sign in again.
    await page.goto(`${server.base}/orgs`);
    await page.waitForURL(/\/signin\?next=/);
    await page.getByLabel('Email').fill(me);
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    assert.match(await page.getByRole('alert').innerText(), /Email or password is wrong/);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${server.base}/orgs`);
    await context.close();
  });

  test('register and add: the set-password link from the mail lets the new member sign in', async () => {
    const { context, page } = await visitor(b);
    await signUp(page, server.base, 'Dee', email('Dee'));
    const slug = await createOrg(page, server.base, `Register ${process.pid}`);
    await page.goto(`${server.base}/orgs/${slug}/members`);
    const form = page.getByRole('form', { name: 'Register and add' });
    const newcomer = email('Eve');
    await form.getByLabel('Email').fill(newcomer);
    await form.getByLabel('Name').fill('Eve');
    await form.getByLabel('developer').check();
    await form.getByRole('button', { name: 'Register and add' }).click();
    assert.match(await page.getByRole('status').innerText(), /registered and added/);
    assert.match(await page.getByRole('row').filter({ hasText: newcomer }).innerText(), /developer/);

    const link = await linkIn(server, newcomer, '/password/set');
    const other = await visitor(b);
    await other.page.goto(`${server.base}${link}`);
    await look(other.page, 'password-set');
    await other.page.getByLabel('Password').fill(PASSWORD);
    await other.page.getByRole('button', { name: 'Save' }).click();
    await other.page.waitForURL(`${server.base}/signin`);
    await signIn(other.page, server.base, newcomer);
    await assert.doesNotReject(other.page.getByRole('link', { name: `Register ${process.pid}` }).waitFor());
    await other.context.close();
    await context.close();
  });
});

describe('organizations', () => {
  test('create an organization; a taken name is refused in words', async () => {
    const { context, page } = await visitor(b);
    await signUp(page, server.base, 'Fay', email('Fay'));
    const name = `Acme ${process.pid}`;
    const slug = await createOrg(page, server.base, name);
    assert.match(await page.getByRole('status').innerText(), new RegExp(`Organization ${name} created`));
    await look(page, 'projects-empty');
    await page.goto(`${server.base}/orgs`);
    await page.getByLabel('Name').fill(name);
    await page.getByRole('button', { name: 'Create organization' }).click();
    assert.match(await page.locator('#f-name-error').innerText(), /is taken/);
    assert.equal(await page.getByLabel('Name').inputValue(), name);
    await look(page, 'orgs-refused');
    await page.goto(`${server.base}/orgs/${slug}/settings`);
    await look(page, 'settings');
    await context.close();
  });

  test('delete is refused while projects remain, then done; leave', async () => {
    const { context, page } = await visitor(b);
    const owner = email('Gil');
    await signUp(page, server.base, 'Gil', owner);
    const name = `Doomed ${process.pid}`;
    const slug = await createOrg(page, server.base, name);
    const token = await apiToken(owner);
    assert.equal((await api(token, 'POST', `/orgs/${slug}/projects`, { name: 'web' })).status, 201);

    await page.goto(`${server.base}/orgs`);
    const row = page.getByRole('row').filter({ hasText: name });
    await row.getByText('Delete').first().click();
    await row.getByRole('button', { name: 'Delete' }).click();
    assert.match(await page.getByRole('alert').innerText(), /still has 1 project/);
    assert.equal((await api(token, 'GET', `/orgs/${slug}`)).status, 200, 'nothing was deleted');

    assert.equal((await api(token, 'DELETE', `/orgs/${slug}/projects/web`)).status, 204);
    await page.goto(`${server.base}/orgs`);
    await row.getByText('Delete').first().click();
    await row.getByRole('button', { name: 'Delete' }).click();
    assert.match(await page.getByRole('status').innerText(), new RegExp(`${name} deleted`));
    assert.equal(await page.getByRole('row').filter({ hasText: name }).count(), 0);

    // Leaving: a member leaves from the row; the owner is offered no Leave.
    const kept = `Kept ${process.pid}`;
    const keptSlug = await createOrg(page, server.base, kept);
    const { context: c2, page: p2 } = await visitor(b);
    const member = email('Hal');
    await signUp(p2, server.base, 'Hal', member);
    assert.equal((await api(token, 'POST', `/orgs/${keptSlug}/members`, { email: member, roles: ['developer'] })).status, 201);
    await p2.goto(`${server.base}/orgs`);
    const mine = p2.getByRole('row').filter({ hasText: kept });
    await mine.getByText('Leave').first().click();
    await mine.getByRole('button', { name: 'Leave' }).click();
    assert.match(await p2.getByRole('status').innerText(), new RegExp(`You left ${kept}`));
    assert.equal(await p2.getByRole('row').filter({ hasText: kept }).count(), 0);
    await page.goto(`${server.base}/orgs`);
    assert.equal(await page.getByRole('row').filter({ hasText: kept }).getByText('Leave').count(), 0);
    await c2.close();
    await context.close();
  });

  test('an outsider gets the same 404 page as a missing organization (R12)', async () => {
    const { context, page } = await visitor(b);
    await signUp(page, server.base, 'Ivy', email('Ivy'));
    const slug = await createOrg(page, server.base, `Private ${process.pid}`);
    const { context: c2, page: p2 } = await visitor(b);
    await signUp(p2, server.base, 'Jo', email('Jo'));
    const pages = [];
    for (const path of [`/orgs/${slug}/members`, '/orgs/no-such-org-here/members', `/orgs/${slug}/settings`, '/orgs/no-such-org-here/settings']) {
      const r = await p2.goto(`${server.base}${path}`);
      assert.equal(r.status(), 404, path);
      pages.push(await p2.locator('main').innerText());
    }
    assert.equal(pages[0], pages[1]);
    assert.equal(pages[2], pages[3]);
    await look(p2, 'not-found');
    await c2.close();
    await context.close();
  });

  test('a cross-site POST without the CSRF token is refused and changes nothing', async () => {
    const { context, page } = await visitor(b);
    const owner = email('Kim');
    await signUp(page, server.base, 'Kim', owner);
    // Another site's page posts a form to Guildhall in the same browser (the session cookie
    // goes along as far as SameSite lets it; the token cannot).
    const name = `Forged ${process.pid}`;
    await page.route('http://evil.test/**', (route) => route.fulfill({
      contentType: 'text/html',
      body: `<form id="f" method="post" action="${server.base}/orgs"><input name="name" value="${name}"></form>
             <script>document.getElementById('f').submit()</script>`,
    }));
    const answer = page.waitForResponse((r) => r.url() === `${server.base}/orgs` && r.request().method() === 'POST');
    await page.goto('http://evil.test/attack');
    assert.equal((await answer).status(), 403);
    // The same form with a wrong token from this site is refused too.
    await page.goto(`${server.base}/orgs`);
    await page.evaluate(() => { document.querySelector('form[action="/orgs"] input[name="csrf"]').value = 'x'.repeat(43); });
    await page.getByLabel('Name').fill(name);
    await page.getByRole('button', { name: 'Create organization' }).click();
    assert.match(await page.locator('main').innerText(), /another site or has expired/);
    const token = await apiToken(owner);
    const orgs = await api(token, 'GET', `/orgs?q=${encodeURIComponent(name)}`);
    assert.deepEqual(orgs.body.items, [], 'no organization was created');
    await context.close();
  });
});

describe('members and invitations', () => {
  test('invite: the mailed link, opened signed out, leads through sign-up to acceptance', async () => {
    const { context, page } = await visitor(b);
    await signUp(page, server.base, 'Lea', email('Lea'));
    const name = `Invites ${process.pid}`;
    const slug = await createOrg(page, server.base, name);
    await page.goto(`${server.base}/orgs/${slug}/invitations`);
    const guest = email('Max');
    const form = page.getByRole('form', { name: 'Invite' });
    await form.getByLabel('Email').fill(guest);
    await form.getByLabel('developer').check();
    await form.getByRole('button', { name: 'Invite' }).click();
    assert.match(await page.getByRole('status').innerText(), /Invitation sent/);
    assert.match(await page.getByRole('row').filter({ hasText: guest }).innerText(), /pending/);
    await look(page, 'invitations');

    const link = await linkIn(server, guest, '/invitations/accept');
    const other = await visitor(b);
    await other.page.goto(`${server.base}${link}`);
    assert.match(await other.page.locator('main').innerText(), new RegExp(name));
    await look(other.page, 'invitation-signed-out');
    await other.page.getByRole('main').getByRole('link', { name: 'Sign up' }).click();
    assert.equal(await other.page.getByLabel('Email').inputValue(), guest, 'the email is filled in');
    await other.page.getByLabel('Name').fill('Max');
    await other.page.getByLabel('Password').fill(PASSWORD);
    await other.page.getByRole('button', { name: 'Sign up' }).click();
    await other.page.waitForURL(/\/invitations\/accept\?token=/);
    await look(other.page, 'invitation');
    await other.page.getByRole('button', { name: 'Accept' }).click();
    await other.page.waitForURL(new RegExp(`/orgs/${slug}/projects`));
    assert.match(await other.page.getByRole('status').innerText(), new RegExp(`You joined ${name}`));

    await page.goto(`${server.base}/orgs/${slug}/members`);
    assert.match(await page.getByRole('row').filter({ hasText: guest }).innerText(), /developer/);
    await other.context.close();
    await context.close();
  });

  test('change roles offers only what I may grant; remove', async () => {
    const { context, page } = await visitor(b);
    const owner = email('Ned');
    await signUp(page, server.base, 'Ned', owner);
    const slug = await createOrg(page, server.base, `Roles ${process.pid}`);
    const token = await apiToken(owner);
    const manager = email('Oz');
    const dev = email('Pia');
    const m = await visitor(b);
    await signUp(m.page, server.base, 'Oz', manager);
    const d = await visitor(b);
    await signUp(d.page, server.base, 'Pia', dev);
    await api(token, 'POST', `/orgs/${slug}/members`, { email: manager, roles: ['manager'] });
    await api(token, 'POST', `/orgs/${slug}/members`, { email: dev, roles: ['developer'] });

    // The manager is offered neither admin nor billing (R6).
    await m.page.goto(`${server.base}/orgs/${slug}/members`);
    const row = m.page.getByRole('row').filter({ hasText: dev });
    await row.getByText('Change roles').click();
    const offered = await row.locator('input[name="roles"]').evaluateAll((els) => els.map((e) => e.value));
    assert.ok(offered.includes('developer') && offered.includes('member'), offered.join());
    assert.ok(!offered.includes('admin') && !offered.includes('billing') && !offered.includes('owner'), offered.join());
    await look(m.page, 'members-manager');
    await row.getByLabel('member').check();
    await row.getByLabel('developer').uncheck();
    await row.getByRole('button', { name: 'Save' }).click();
    assert.match(await m.page.getByRole('status').innerText(), /Roles of Pia saved/);
    assert.match(await m.page.getByRole('row').filter({ hasText: dev }).innerText(), /member/);

    // The owner removes her, after confirming.
    await page.goto(`${server.base}/orgs/${slug}/members`);
    await look(page, 'members');
    const owned = page.getByRole('row').filter({ hasText: dev });
    await owned.getByText('Remove').first().click();
    await owned.getByRole('button', { name: 'Remove' }).click();
    assert.match(await page.getByRole('status').innerText(), /Member removed/);
    assert.equal(await page.getByRole('row').filter({ hasText: dev }).count(), 0);
    const members = await api(token, 'GET', `/orgs/${slug}/members`);
    assert.ok(!members.body.items.some((x) => x.user.email === dev));
    await m.context.close();
    await d.context.close();
    await context.close();
  });
});
