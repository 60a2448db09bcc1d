// One document's whole life through the real server, in real headless Chromium:
// an incoming plan is registered with a PDF, forwarded, assigned, answered by a
// drafted reply that is reviewed, approved and issued; then timelines, search
// (including the PDF's text) and the attachment download are checked.
//
// One `lienthong serve --demo` for this file; one fresh browser context per
// person, kept for the whole journey (each signs in once).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { launchBrowser, newContext, screenshot, screenshotDir, startServer } from './harness.mjs';

const PASSWORD = 'lienthong-demo';
const CLERK = 'vanthu.skhcn';
const LEADER = 'giamdoc.skhcn';
const HEAD = 'truongphong.skhcn';
const SPECIALIST = 'chuyenvien.skhcn';
/** The reply also goes, by exchange, to the Department of Home Affairs. */
const OTHER_CLERK = 'vanthu.snv';
const OTHER_AGENCY = 'Sở Nội vụ';
const OTHER_CODE = '000.00.02.H62';

const STEP_TIMEOUT = 8_000; // server-rendered pages on loopback (debug build, argon2 on sign-in)
const JOURNEY_TIMEOUT = 90_000;

const PDF_WORD = 'vietmapxyz';
const SYMBOL = `${100 + Math.floor(Math.random() * 900)}/KH-UBND`;
const ISSUER = 'Văn phòng Ủy ban nhân dân tỉnh';
const SUBJECT = 'Kế hoạch triển khai chuyển đổi số năm 2027';
const REPLY_SUBJECT = 'Báo cáo kết quả triển khai chuyển đổi số';
const INSTRUCTION = 'Giao chuyên viên chủ trì, trình trước hạn';
const RESULT = 'Đã dự thảo báo cáo trả lời';
/** Today in Viet Nam (the server's "today" is UTC+7), as YYYY-MM-DD. */
const TODAY = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date());

let server;
let browser;

before(async () => {
  server = await startServer({ name: 'documents' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

// ---------------------------------------------------------------- a PDF

/** A valid one-page PDF whose page says `text` (ASCII, Helvetica), with a correct xref table. */
function pdfSaying(text) {
  const body = `BT /F1 12 Tf 72 720 Td (${text}) Tj ET`;
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${Buffer.byteLength(body, 'latin1')} >>\nstream\n${body}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets = [];
  objs.forEach((o, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** If poppler's pdftotext is installed, make sure it reads `word` from `pdf` (else the test's PDF is wrong, not the server). */
async function checkPdfWithPoppler(pdf, word) {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lienthong-pdf-'));
  try {
    const file = path.join(tmp, 'k.pdf');
    await fs.writeFile(file, pdf);
    let text;
    try {
      text = execFileSync('pdftotext', [file, '-'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      if (err.code === 'ENOENT') return; // poppler-utils not installed
      throw new Error(`pdftotext could not read the test's own PDF: ${err.message}`);
    }
    assert.ok(text.includes(word), `pdftotext should find ${JSON.stringify(word)} in the test PDF, got ${JSON.stringify(text)}`);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- people

const pathOf = (page) => new URL(page.url()).pathname;
const people = new Map(); // username -> { context, page, name, lastStatus, consoleErrors }
let current = null; // the person acting in the running step, for failure reports

/** The person's own browser context (created and signed in on first use). */
async function as(username) {
  let p = people.get(username);
  if (!p) {
    const context = await newContext(browser, server.baseURL);
    context.setDefaultTimeout(STEP_TIMEOUT);
    const page = await context.newPage();
    p = { username, context, page, name: null, lastStatus: null, lastURL: null, consoleErrors: [] };
    page.on('pageerror', (err) => p.consoleErrors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => msg.type() === 'error' && p.consoleErrors.push(`console: ${msg.text()}`));
    // The status of each document the main frame loads (the last in a redirect chain wins).
    page.on('response', (res) => {
      if (res.request().isNavigationRequest() && res.frame() === page.mainFrame()) {
        p.lastStatus = res.status();
        p.lastURL = res.url();
      }
    });
    people.set(username, p);
    current = p;
    await page.goto('/sign-in');
    await expectVisible(page, 'form#sign-in', 'sign-in form');
    await page.locator('#username').fill(username);
    await page.locator('#password').fill(PASSWORD);
    await submitAndLoad(p, page.locator('form#sign-in button[type="submit"]'));
    await expectVisible(page, 'main[data-page="dashboard"]', `dashboard after signing in as ${username}`);
    p.name = (await page.locator('[data-testid="person-name"]').first().innerText()).trim();
    assert.ok(p.name, `${username}: [data-testid="person-name"] is empty`);
  }
  current = p;
  return p;
}

/** Clicks a control that submits or navigates, waits for the new document; returns its HTTP status. */
async function submitAndLoad(p, locator) {
  const { page } = p;
  const navigated = page.waitForEvent('framenavigated', {
    predicate: (frame) => frame === page.mainFrame(),
    timeout: STEP_TIMEOUT,
  });
  await locator.click();
  await navigated;
  await page.waitForLoadState('load');
  return p.lastStatus;
}

async function goto(p, url) {
  const res = await p.page.goto(url);
  assert.ok(res, `GET ${url} gave no response`);
  assert.equal(res.status(), 200, `GET ${url} as ${p.username} answered ${res.status()} (ended at ${p.page.url()})`);
  return res;
}

async function expectVisible(page, selector, what) {
  try {
    await page.locator(selector).first().waitFor({ state: 'visible' });
  } catch (err) {
    const count = await page.locator(selector).count().catch(() => '?');
    throw new Error(`${what}: expected a visible \`${selector}\` on ${pathOf(page)} (found ${count} matching, none visible)\n${err.message}`);
  }
}

/** Asserts the document page shows `status`, and says what the server answered if not. */
async function expectStatus(p, status, after) {
  const { page } = p;
  // The page has loaded (submitAndLoad / goto waited): no need to wait for <main>.
  const main = page.locator('main').first();
  const kind = await main.getAttribute('data-page', { timeout: 1_000 }).catch(() => null);
  if (kind !== 'document') {
    const alerts = await page.locator('[role="alert"]').allInnerTexts();
    assert.fail(
      `${after}: expected a document page, got main[data-page="${kind}"] with HTTP ${p.lastStatus} at ${page.url()} ` +
        `(alerts: ${JSON.stringify(alerts)})`,
    );
  }
  const got = await main.getAttribute('data-status');
  if (got !== status) {
    const alerts = await page.locator('[role="alert"]').allInnerTexts();
    assert.fail(
      `${after}: expected main[data-status="${status}"], got data-status="${got}" ` +
        `(last HTTP status ${p.lastStatus} for ${p.lastURL}; alerts: ${JSON.stringify(alerts)})`,
    );
  }
}

/** Picks in `select` the option whose label contains `text`; returns its value. */
async function selectByLabel(page, select, text, { valuePrefix = '' } = {}) {
  const options = await page.locator(`${select} option`).evaluateAll((os) => os.map((o) => ({ value: o.value, label: o.textContent.trim() })));
  const hit = options.find((o) => o.value.startsWith(valuePrefix) && o.value !== '' && o.label.includes(text));
  assert.ok(hit, `${select} on ${pathOf(page)} has no option${valuePrefix ? ` with value "${valuePrefix}…"` : ''} labelled with ${JSON.stringify(text)}; options: ${JSON.stringify(options)}`);
  await page.locator(select).selectOption(hit.value);
  return hit.value;
}

async function events(page) {
  return page.locator('[data-testid="timeline"] li[data-event]').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-event')));
}

const shot = (p, step) => screenshot(p.page, `docs-${step}`);

// ---------------------------------------------------------------- the journey

test('documents: an incoming plan is registered, assigned, answered, and the reply issued', { timeout: JOURNEY_TIMEOUT }, async (t) => {
  const pdf = pdfSaying(`Ke hoach ${PDF_WORD} chuyen doi so tinh nha`);
  await checkPdfWithPoppler(pdf, PDF_WORD);

  let incomingId = null;
  let replyId = null;
  let failed = null;

  /** One step: skipped after a failure; on failure adds a screenshot, the page text and the server's last words. */
  const step = (name, fn) =>
    t.test(name, { skip: failed ? `an earlier step failed (${failed})` : false }, async () => {
      await fs.rm(path.join(screenshotDir, `docs-${name.split('.')[0]}-failure.png`), { force: true });
      try {
        await fn();
      } catch (err) {
        failed = name;
        const p = current;
        if (p) {
          const file = await screenshot(p.page, `docs-${name.split('.')[0]}-failure`).catch(() => null);
          const main = await p.page
            .locator('main')
            .first()
            .evaluate((m) => m.outerHTML.slice(0, 1200))
            .catch(() => '(no <main>)');
          err.message +=
            `\n  acting as: ${p.username}` +
            `\n  at URL: ${p.page.url()} (last document HTTP ${p.lastStatus} from ${p.lastURL})` +
            (file ? `\n  screenshot: ${file}` : '') +
            `\n  <main> (first 1200 chars): ${main}` +
            (p.consoleErrors.length ? `\n  browser errors: ${p.consoleErrors.join(' | ')}` : '');
        }
        err.message += `\n  server output (last 1500 chars):\n${server.output().slice(-1500)}`;
        throw err;
      }
    });

  try {
    await step('0. everyone signs in (names for the pickers)', async () => {
      for (const u of [CLERK, LEADER, HEAD, SPECIALIST]) await as(u);
      for (const u of [CLERK, LEADER, HEAD, SPECIALIST]) await shot(people.get(u), `0-dashboard-${u}`);
    });

    await step('1. clerk registers the plan with a PDF and forwards it to the director', async () => {
      const p = await as(CLERK);
      const { page } = p;
      await goto(p, '/documents/incoming/new');
      await expectVisible(page, 'form#new-incoming', 'the new-incoming form');
      await page.locator('#issuer').fill(ISSUER);
      await page.locator('#symbol').fill(SYMBOL);
      await page.locator('#issued_on').fill(TODAY);
      await page.locator('#doc_type').selectOption('KH');
      await page.locator('#subject').fill(SUBJECT);
      await page.locator('#arrived_on').fill(TODAY);
      await page.locator('#files').setInputFiles({ name: 'ke-hoach-chuyen-doi-so.pdf', mimeType: 'application/pdf', buffer: pdf });
      await shot(p, '1a-new-incoming-filled');

      const status = await submitAndLoad(p, page.locator('form#new-incoming button[type="submit"]'));
      const errors = await page.locator('.field-error, [role="alert"]').allInnerTexts();
      assert.equal(pathOf(page), '/documents/incoming', `registering should redirect to the register (HTTP ${status}, at ${page.url()}, errors ${JSON.stringify(errors)})`);
      await expectVisible(page, 'main[data-page="incoming-register"]', 'the incoming register after registering');
      await expectVisible(page, '[data-testid="registered"]', 'the "registered as number …" notice');
      await shot(p, '1b-register-after-registering');

      const link = page.locator('[data-testid="register"] a', { hasText: SUBJECT }).first();
      await submitAndLoad(p, link);
      await expectVisible(page, 'main[data-page="document"]', 'the document page');
      incomingId = await page.locator('main[data-page="document"]').getAttribute('data-document-id');
      assert.match(incomingId ?? '', /^\d+$/, 'data-document-id is a number');
      await expectStatus(p, 'registered', 'a newly registered document');
      const attachments = await page.locator('[data-testid="attachments"] li').allInnerTexts();
      assert.equal(attachments.length, 1, `one attachment listed, got ${JSON.stringify(attachments)}`);
      assert.match(attachments[0], /application\/pdf/, 'the attachment is sniffed as a PDF');

      await expectVisible(page, 'form#forward', 'the forward form');
      await selectByLabel(page, 'form#forward #leader_id', people.get(LEADER).name);
      await submitAndLoad(p, page.locator('form#forward button[type="submit"]'));
      await expectStatus(p, 'submitted', 'after forwarding to the director');
      await shot(p, '1c-incoming-forwarded');
    });

    await step('2. director assigns the specialist as lead', async () => {
      const p = await as(LEADER);
      const { page } = p;
      await goto(p, `/documents/${incomingId}`);
      await expectVisible(page, 'form#assign', 'the assign form');
      await page.locator('#instruction').fill(INSTRUCTION);
      const lead = await selectByLabel(page, '#lead', people.get(SPECIALIST).name, { valuePrefix: 'p:' });
      const deadline = await page.locator('#deadline').inputValue();
      assert.match(deadline, /^\d{4}-\d{2}-\d{2}$/, `#deadline has a default date, got ${JSON.stringify(deadline)}`);
      await shot(p, '2a-assign-filled');
      await submitAndLoad(p, page.locator('form#assign button[type="submit"]'));
      await expectStatus(p, 'assigned', `after assigning ${lead}`);
      await expectVisible(page, '[data-testid="tasks"] li[data-task-status="open"]', 'an open task');
      await shot(p, '2b-assigned');
    });

    await step('3. specialist drafts a reply, submits it for review and completes the task', async () => {
      const p = await as(SPECIALIST);
      const { page } = p;
      await goto(p, `/documents/${incomingId}`);
      const replyLink = page.locator('a[href*="reply_to="]', { hasText: 'Soạn văn bản trả lời' }).first();
      await expectVisible(page, 'a[href*="reply_to="]', 'the "draft a reply" link');
      await submitAndLoad(p, replyLink);
      await expectVisible(page, 'main[data-page="new-outgoing"]', 'the new-outgoing form');
      await page.locator('#doc_type').selectOption('CV');
      await page.locator('#subject').fill(REPLY_SUBJECT);
      const units = await page.locator('#drafting_unit_id option').evaluateAll((os) => os.map((o) => o.value).filter((v) => v !== ''));
      assert.ok(units.length > 0, '#drafting_unit_id offers at least one unit');
      await page.locator('#drafting_unit_id').selectOption(units[0]);
      await page.locator('#recipients_other').fill('Ủy ban nhân dân tỉnh');
      await page.locator('#recipient_agencies').selectOption({ label: OTHER_AGENCY });
      await shot(p, '3a-new-outgoing-filled');
      const status = await submitAndLoad(p, page.locator('form#new-outgoing button[type="submit"]'));
      await expectVisible(page, 'main[data-page="document"]', `the draft's page after saving (HTTP ${status})`);
      replyId = await page.locator('main[data-page="document"]').getAttribute('data-document-id');
      assert.match(replyId ?? '', /^\d+$/, 'the draft has a numeric id');
      assert.notEqual(replyId, incomingId, 'the draft is a new document');
      await expectStatus(p, 'draft', 'a saved draft');
      await shot(p, '3b-draft');

      await expectVisible(page, 'form#submit', 'the submit-for-review form');
      await selectByLabel(page, 'form#submit #reviewer_id', people.get(HEAD).name);
      await submitAndLoad(p, page.locator('form#submit button[type="submit"]'));
      await expectStatus(p, 'in_review', 'after submitting the draft for review');
      await shot(p, '3c-draft-in-review');

      await goto(p, `/documents/${incomingId}`);
      const task = page.locator('[data-testid="tasks"] li', { has: page.locator('form[data-testid="complete"]') }).first();
      await task.waitFor({ state: 'visible' });
      const complete = task.locator('form[data-testid="complete"]');
      await complete.locator('input[name="result"]').fill(RESULT);
      const replyOptions = await complete.locator('select[name="reply_id"] option').evaluateAll((os) => os.map((o) => o.value).filter((v) => v !== ''));
      assert.deepEqual(replyOptions, [replyId], 'the completion form offers exactly the drafted reply');
      await complete.locator('select[name="reply_id"]').selectOption(replyId);
      await shot(p, '3d-complete-filled');
      await submitAndLoad(p, complete.locator('button[type="submit"]'));
      await expectStatus(p, 'done', 'after completing the task with the reply');
      await shot(p, '3e-incoming-done');
    });

    await step('4. unit head forwards the draft for approval', async () => {
      const p = await as(HEAD);
      const { page } = p;
      await goto(p, `/documents/${replyId}`);
      await expectVisible(page, 'form#review', 'the review form');
      await selectByLabel(page, 'form#review #approver_id', people.get(LEADER).name);
      await submitAndLoad(p, page.locator('form#review button[name="decision"][value="accept"]'));
      await expectStatus(p, 'awaiting_approval', 'after the unit head accepts');
      await shot(p, '4-awaiting-approval');
    });

    await step('5. director approves the draft', async () => {
      const p = await as(LEADER);
      const { page } = p;
      await goto(p, `/documents/${replyId}`);
      await expectVisible(page, 'form#approve', 'the approve form');
      await submitAndLoad(p, page.locator('form#approve button[name="decision"][value="accept"]'));
      await expectStatus(p, 'approved', 'after the director approves');
      await shot(p, '5-approved');
    });

    await step('6. clerk issues the reply with a number and a symbol', async () => {
      const p = await as(CLERK);
      const { page } = p;
      await goto(p, `/documents/${replyId}`);
      await expectVisible(page, 'form#issue', 'the issue form');
      await submitAndLoad(p, page.locator('form#issue button'));
      await expectStatus(p, 'issued', 'after issuing');
      const symbol = (await page.locator('[data-testid="symbol"]').first().innerText()).trim();
      assert.match(symbol, /^\d+\/SKHCN-[A-ZĐ]+$/, `a công văn's symbol is number/SKHCN-UNIT, got ${JSON.stringify(symbol)}`);
      const number = (await page.locator('[data-testid="number"]').first().innerText()).trim();
      assert.match(number, /^[1-9]\d*$/, `the issue number is a positive integer, got ${JSON.stringify(number)}`);
      assert.equal(symbol.split('/')[0], number, 'the symbol starts with the issue number');
      await shot(p, '6-issued');
    });

    await step('7. timelines tell the story', async () => {
      const p = await as(CLERK);
      const { page } = p;
      await goto(p, `/documents/${incomingId}`);
      const incomingEvents = await events(page);
      for (const e of ['registered', 'forwarded', 'assigned', 'completed']) {
        assert.ok(incomingEvents.includes(e), `incoming timeline lacks "${e}": ${JSON.stringify(incomingEvents)}`);
      }
      await shot(p, '7a-incoming-timeline');
      await goto(p, `/documents/${replyId}`);
      const outgoingEvents = await events(page);
      for (const e of ['drafted', 'submitted_for_review', 'reviewed', 'approved', 'issued']) {
        assert.ok(outgoingEvents.includes(e), `outgoing timeline lacks "${e}": ${JSON.stringify(outgoingEvents)}`);
      }
      await shot(p, '7b-outgoing-timeline');
    });

    await step('8. search finds the plan by its PDF text and without diacritics', async () => {
      const p = await as(CLERK);
      const { page } = p;
      const href = `/documents/${incomingId}`;
      for (const q of [PDF_WORD, 'ke hoach chuyen doi so']) {
        const url = `/search?q=${encodeURIComponent(q)}`;
        const until = Date.now() + 3_000;
        let found = false;
        let hits = [];
        for (;;) {
          await goto(p, url);
          hits = await page.locator('[data-testid="hits"] a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
          found = hits.includes(href);
          if (found || Date.now() > until) break;
          await new Promise((r) => setTimeout(r, 250));
        }
        const total = await page.locator('[data-testid="search-total"]').innerText().catch(() => '(no total)');
        await shot(p, `8-search-${q}`);
        assert.ok(found, `GET ${url} should link to ${href} within 3 s; hits: ${JSON.stringify(hits)}, ${total}`);
      }
    });

    await step('9. the register lists the plan and its PDF downloads as application/pdf', async () => {
      const p = await as(CLERK);
      const { page } = p;
      await goto(p, '/documents/incoming');
      await expectVisible(page, 'main[data-page="incoming-register"]', 'the incoming register');
      await expectVisible(page, `[data-testid="register"] a[href="/documents/${incomingId}"]`, 'a register row linking to the plan');
      await shot(p, '9a-register');

      await goto(p, `/documents/${incomingId}`);
      const link = page.locator('[data-testid="attachments"] a').first();
      const href = await link.getAttribute('href');
      assert.match(href ?? '', new RegExp(`^/documents/${incomingId}/attachments/\\d+$`), `attachment link, got ${JSON.stringify(href)}`);
      const res = await p.context.request.get(href, { maxRedirects: 0 });
      const type = res.headers()['content-type'] ?? '';
      const body = await res.body();
      assert.equal(res.status(), 200, `GET ${href} answered ${res.status()}`);
      assert.match(type, /^application\/pdf\b/, `GET ${href} content-type should be application/pdf, got ${JSON.stringify(type)}`);
      assert.ok(body.equals(pdf), `the downloaded file is the uploaded PDF (${body.length} bytes vs ${pdf.length})`);
      await shot(p, '9b-document-with-attachment');
    });
    await step('10. the reply arrives at the other department by exchange and is registered in one click', async () => {
      const p = await as(OTHER_CLERK);
      const { page } = p;
      const until = Date.now() + 10_000;
      let row;
      for (;;) {
        await goto(p, '/exchange/arrived');
        row = page.locator('[data-testid="arrived"] tr[data-arrival-id]', { hasText: REPLY_SUBJECT }).first();
        if ((await row.count()) > 0 || Date.now() > until) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      assert.ok((await row.count()) > 0, `the reply should arrive in ${OTHER_CLERK}'s queue within 10 s`);
      await shot(p, '10a-arrived-queue');
      await submitAndLoad(p, row.locator('a').first());
      await expectVisible(page, 'form#register', 'the prefilled registration form');
      assert.equal(await page.locator('form#register #subject').inputValue(), REPLY_SUBJECT, 'the subject is prefilled from the package');
      await shot(p, '10b-arrival');
      await submitAndLoad(p, page.locator('[data-testid="register-arrival"]'));
      await expectStatus(p, 'registered', 'the arrival, registered as an incoming document');
      await shot(p, '10c-registered');
    });

    await step('11. the sender sees the statuses come back (arrived, registered)', async () => {
      const p = await as(CLERK);
      const { page } = p;
      const item = page.locator(`[data-testid="deliveries"] li[data-recipient="${OTHER_CODE}"]`);
      const until = Date.now() + 10_000;
      let codes = [];
      for (;;) {
        await goto(p, `/documents/${replyId}`);
        codes = await item.locator('li[data-status]').evaluateAll((ls) => ls.map((l) => l.getAttribute('data-status')));
        if ((codes.includes('01') && codes.includes('03')) || Date.now() > until) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      await shot(p, '11-deliveries');
      assert.ok(codes.includes('01') && codes.includes('03'), `statuses 01 and 03 within 10 s, got ${JSON.stringify(codes)}`);
      assert.equal(await item.getAttribute('data-delivery'), 'delivered');
    });
  } finally {
    for (const p of people.values()) await p.context.close().catch(() => {});
  }
  assert.equal(failed, null, `step failed: ${failed}`);
});
