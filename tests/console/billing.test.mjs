// The billing page (R8): only `billing.read` opens it and shows its link; `billing.read` alone
// edits nothing; a billing member saves a profile in any script, is refused a full card number
// next to the field, and redeems a voucher made by the operator command (issue 14).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
async function team(prefix, roles) {
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
    people[who] = { ...ctx, email: address };
  }
  return { slug, owner: { ...owner, email: ownerEmail }, people };
}

test('an admin sees no billing link and gets the 404 page; a billing member sees both', async () => {
  const { slug, people } = await team('Ledger', { Ada: 'admin', Bea: 'billing' });
  const admin = people.Ada.page;
  await admin.goto(`${server.base}/orgs/${slug}/members`);
  const nav = admin.getByRole('navigation', { name: 'Organization' });
  assert.equal(await nav.getByRole('link', { name: 'Members' }).count(), 1);
  assert.equal(await admin.getByRole('link', { name: 'Billing' }).count(), 0, 'no billing link anywhere');
  const r = await admin.goto(`${server.base}/orgs/${slug}/billing`);
  assert.equal(r.status(), 404);
  const hidden = await admin.locator('main').innerText();
  const missing = await admin.goto(`${server.base}/orgs/no-such-org-${process.pid}/billing`);
  assert.equal(missing.status(), 404);
  assert.equal(await admin.locator('main').innerText(), hidden, 'the same page as for a missing organization');
  // The PDF route is closed the same way.
  const pdf = await admin.goto(`${server.base}/orgs/${slug}/billing/invoices/00000000-0000-0000-0000-000000000000/pdf`);
  assert.equal(pdf.status(), 404);

  const billing = people.Bea.page;
  await billing.goto(`${server.base}/orgs/${slug}`);
  await billing.getByRole('navigation', { name: 'Organization' }).getByRole('link', { name: 'Billing' }).click();
  await billing.waitForURL(`${server.base}/orgs/${slug}/billing`);
  assert.match(await billing.locator('main').innerText(), /No invoice yet/);
  await look(billing, 'billing-empty');
});

test('a billing member saves a profile in any script; a full card number is refused next to its field', async () => {
  const { slug, owner, people } = await team('Tresor', { Cai: 'billing' });
  const page = people.Cai.page;
  await page.goto(`${server.base}/orgs/${slug}/billing`);
  await page.getByLabel('Name', { exact: true }).fill('Société Générale Ελλάδα');
  await page.getByLabel('Address line 1').fill('Тверская улица 7');
  await page.getByLabel('Postal code').fill('75009');
  await page.getByLabel('City').fill('Paris');
  await page.getByLabel('Country').fill('fr');
  await page.getByLabel('VAT number').fill('FR40303265045');
  await page.getByLabel('Brand').fill('visa');
  await page.getByLabel('Last four digits').fill('4111 1111 1111 1111');
  await page.getByLabel('Expiry month').fill('4');
  await page.getByLabel('Expiry year').fill('2031');
  await page.getByRole('button', { name: 'Save' }).click();
  const last4 = page.getByLabel('Last four digits');
  assert.equal(await last4.getAttribute('aria-invalid'), 'true');
  const described = await last4.getAttribute('aria-describedby');
  assert.match(await page.locator(`#${described}`).innerText(), /full card number/);
  assert.equal(await last4.inputValue(), '', 'the refused number is not shown back');
  assert.equal(await page.getByLabel('City').inputValue(), 'Paris', 'the rest is kept as typed');
  await look(page, 'billing-card-refused');
  const before = await api(owner.email, 'GET', `/orgs/${slug}/billing`);
  assert.equal(before.status, 200);
  assert.equal(before.body.name, null, 'nothing was saved');

  await last4.fill('1111');
  await page.getByRole('button', { name: 'Save' }).click();
  assert.match(await page.getByRole('status').innerText(), /Billing profile saved/);
  const saved = await api(owner.email, 'GET', `/orgs/${slug}/billing`);
  assert.equal(saved.body.name, 'Société Générale Ελλάδα');
  assert.equal(saved.body.address.line1, 'Тверская улица 7');
  assert.equal(saved.body.address.country, 'FR');
  assert.deepEqual(saved.body.payment_method, { brand: 'visa', last4: '1111', exp_month: 4, exp_year: 2031 });
  assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'Société Générale Ελλάδα');
  await look(page, 'billing-profile');

  // An invoice for last month: a paid plan that started then (the one row a test moves back in
  // time), produced by the operator command, listed and downloaded as a PDF whose text holds
  // the names and address exactly (poppler's pdftotext, as any reader extracts it).
  assert.equal((await api(owner.email, 'POST', `/orgs/${slug}/projects`, { name: 'api' })).status, 201);
  assert.equal((await api(owner.email, 'PUT', `/orgs/${slug}/projects/api/plan`, { tier: 'pro' })).status, 200);
  const now = new Date();
  const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  const month = first.toISOString().slice(0, 7);
  const db = join(server.dataDir, 'guildhall.db');
  const from = execFileSync('sqlite3', [db, 'SELECT valid_from FROM plan_periods LIMIT 1']).toString().trim();
  assert.ok(from.length > 10, `a plan period starts at ${from}`);
  const backdated = `${month}-01${from.slice(10)}`;
  execFileSync('sqlite3', [db, `UPDATE plan_periods SET valid_from = '${backdated}'`]);
  execFileSync(process.env.GUILDHALL_BIN, ['invoices', 'generate', '--month', month, '--data-dir', server.dataDir]);
  await page.goto(`${server.base}/orgs/${slug}/billing`);
  const link = page.getByRole('link', { name: /PDF/ }).first();
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const file = join(server.dataDir, 'invoice.pdf');
  await download.saveAs(file);
  assert.equal(readFileSync(file).subarray(0, 5).toString(), '%PDF-');
  const text = execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-']).toString();
  for (const expected of ['Société Générale Ελλάδα', 'Тверская улица 7', 'FR40303265045', 'Paris']) {
    assert.ok(text.includes(expected), `${expected} not in the PDF's text:\n${text}`);
  }
  await look(page, 'billing-invoice');
});

test('billing.read alone shows the profile and offers no form; a voucher from the operator is redeemed', async () => {
  const { slug, owner, people } = await team('Audit', { Dee: 'billing' });
  const role = await api(owner.email, 'POST', `/orgs/${slug}/roles`, { name: 'bookkeeper', permissions: ['billing.read'] });
  assert.equal(role.status, 201, JSON.stringify(role.body));
  const reader = await visitor(b);
  const readerEmail = email('Eli');
  await signUp(reader.page, server.base, 'Eli', readerEmail);
  assert.equal((await api(owner.email, 'POST', `/orgs/${slug}/members`, { email: readerEmail, roles: ['bookkeeper'] })).status, 201);

  const code = `WELCOME${process.pid}`;
  const expires = new Date(Date.now() + 30 * 864e5).toISOString().slice(0, 10);
  execFileSync(process.env.GUILDHALL_BIN, ['vouchers', 'create', '--code', code, '--amount', '1500', '--expires', expires, '--data-dir', server.dataDir]);
  const page = people.Dee.page;
  await page.goto(`${server.base}/orgs/${slug}/billing`);
  await page.getByLabel('Voucher code').fill('NO-SUCH-CODE');
  await page.getByRole('button', { name: 'Redeem' }).click();
  assert.equal(await page.getByLabel('Voucher code').getAttribute('aria-invalid'), 'true');
  assert.match(await page.locator('main').innerText(), /no such voucher code/i);
  await page.getByLabel('Voucher code').fill(code.toLowerCase());
  await page.getByRole('button', { name: 'Redeem' }).click();
  assert.match(await page.getByRole('status').innerText(), /redeemed/);
  assert.match(await page.locator('main').innerText(), /15\.00 EUR off/);

  await reader.page.goto(`${server.base}/orgs/${slug}/billing`);
  const text = await reader.page.locator('main').innerText();
  assert.match(text, /but not change it/);
  assert.match(text, /15\.00 EUR off/);
  assert.equal(await reader.page.locator('main form').count(), 0, 'no form for billing.read alone');
  assert.equal(await reader.page.getByRole('button', { name: 'Save' }).count(), 0);
  await look(reader.page, 'billing-read-only');
  // A POST made anyway, with a valid CSRF token (the sign-out form's), is refused in words and
  // redeems nothing.
  execFileSync(process.env.GUILDHALL_BIN, ['vouchers', 'create', '--code', `${code}B`, '--percent', '10', '--expires', expires, '--data-dir', server.dataDir]);
  const answer = reader.page.waitForResponse((r) => r.url().endsWith('/billing/vouchers') && r.request().method() === 'POST');
  await reader.page.evaluate((c) => {
    const form = document.createElement('form');
    form.method = 'post';
    form.action = location.pathname + '/vouchers';
    const csrf = document.querySelector('form[action="/signout"] input[name="csrf"]').cloneNode();
    const field = Object.assign(document.createElement('input'), { name: 'code', value: c });
    form.append(csrf, field);
    document.body.append(form);
    form.submit();
  }, `${code}B`);
  const response = await answer;
  const refused = { status: response.status(), text: await response.text() };
  assert.equal(refused.status, 403);
  assert.match(refused.text, /billing\.manage/);
  const after = await api(owner.email, 'GET', `/orgs/${slug}/billing`);
  assert.deepEqual(after.body.vouchers.map((v) => v.code), [code]);
});
