// Journeys of a person through the real server, in real headless Chromium.
// One `lienthong serve --demo` for this file, fresh browser context per test.

import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { launchBrowser, newContext, screenshot, screenshotDir, slug, startServer } from './harness.mjs';

const CLERK = { username: 'vanthu.skhcn', password: 'lienthong-demo' };
const STEP_TIMEOUT = 5_000; // server-rendered pages on loopback: anything slower is a failure
const TEST_TIMEOUT = 30_000;
const KHMER = /[\u1780-\u17FF]/;

let server;
let browser;
let clerkSession = null; // storage state saved by journey (a), reused by (b) and (c)

before(async () => {
  server = await startServer({ name: 'journeys' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

// ---------------------------------------------------------------- helpers

const pathOf = (page) => new URL(page.url()).pathname;

/** Runs `fn` in a fresh context; on failure adds a screenshot, the URL and the server's last words. */
function journey(name, fn, { contextOptions = {} } = {}) {
  test(name, { timeout: TEST_TIMEOUT }, async () => {
    await fs.rm(path.join(screenshotDir, `${slug(name)}-failure.png`), { force: true });
    const context = await newContext(browser, server.baseURL, contextOptions);
    context.setDefaultTimeout(STEP_TIMEOUT);
    const page = await context.newPage();
    const consoleErrors = [];
    page.on('pageerror', (err) => consoleErrors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => msg.type() === 'error' && consoleErrors.push(`console: ${msg.text()}`));
    try {
      await fn({ page, context });
    } catch (err) {
      const shot = await screenshot(page, `${slug(name)}-failure`).catch(() => null);
      const body = await page
        .evaluate(() => document.body?.innerText ?? '')
        .catch(() => '(page text unavailable)');
      const tail = server.output().slice(-1500);
      err.message +=
        `\n  at URL: ${page.url()}` +
        (shot ? `\n  screenshot: ${shot}` : '') +
        `\n  page text (first 600 chars): ${JSON.stringify(body.slice(0, 600))}` +
        (consoleErrors.length ? `\n  browser errors: ${consoleErrors.join(' | ')}` : '') +
        `\n  server output (last 1500 chars):\n${tail}`;
      throw err;
    } finally {
      await context.close().catch(() => {});
    }
  });
}

/** Clicks something that loads a new document and waits until that document has loaded. */
async function clickAndNavigate(page, locator) {
  const navigated = page.waitForEvent('framenavigated', {
    predicate: (frame) => frame === page.mainFrame(),
    timeout: STEP_TIMEOUT,
  });
  await locator.click();
  await navigated;
  await page.waitForLoadState('load');
}

async function expectVisible(page, selector, what) {
  try {
    await page.locator(selector).first().waitFor({ state: 'visible' });
  } catch (err) {
    const count = await page.locator(selector).count().catch(() => '?');
    throw new Error(`${what}: expected a visible \`${selector}\` on ${pathOf(page)} (found ${count} matching, none visible)\n${err.message}`);
  }
}

async function htmlLang(page) {
  return page.evaluate(() => document.documentElement.getAttribute('lang'));
}

async function h1Text(page) {
  await expectVisible(page, 'h1', 'page heading');
  return (await page.locator('h1').first().innerText()).trim();
}

/** The three language links exist, are visible and sit in the page header. */
async function assertLanguageLinks(page) {
  for (const lang of ['vi', 'en', 'km']) {
    const sel = `a[hreflang="${lang}"]`;
    await expectVisible(page, sel, `language link ${lang}`);
    const inHeader = await page
      .locator(sel)
      .first()
      .evaluate((a) => Boolean(a.closest('header, [role="banner"]')));
    assert.ok(inHeader, `${sel} on ${pathOf(page)} should be inside the page <header>`);
  }
}

async function submitSignIn(page, username, password) {
  await expectVisible(page, 'form#sign-in', 'sign-in form');
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await clickAndNavigate(page, page.locator('form#sign-in button[type="submit"]'));
}

/** Puts the clerk's session into `context`: reuses (a)'s cookies if still good, else signs in. */
async function openDashboardAsClerk(page, context) {
  if (clerkSession) await context.addCookies(clerkSession.cookies);
  await page.goto('/');
  if (pathOf(page) === '/sign-in') await submitSignIn(page, CLERK.username, CLERK.password);
  await expectVisible(page, 'main[data-page="dashboard"]', `dashboard after signing in as ${CLERK.username}`);
}

async function alertTexts(page) {
  return page.locator('[role="alert"]').allInnerTexts();
}

async function expectAlert(page, expected) {
  try {
    await page.locator('[role="alert"]', { hasText: expected }).first().waitFor({ state: 'visible' });
  } catch {
    const texts = await alertTexts(page);
    assert.fail(
      `expected a visible [role="alert"] containing ${JSON.stringify(expected)} on ${pathOf(page)}; ` +
        `found ${texts.length} alert(s): ${JSON.stringify(texts)}`,
    );
  }
}

// ---------------------------------------------------------------- journeys

journey('a. clerk signs in and lands on the dashboard', async ({ page, context }) => {
  const response = await page.goto('/');
  assert.ok(response, 'GET / returned a response');
  assert.equal(pathOf(page), '/sign-in', `GET / without a session should redirect to /sign-in (ended at ${page.url()})`);
  await assertLanguageLinks(page);
  await screenshot(page, 'a-sign-in-page');

  await submitSignIn(page, CLERK.username, CLERK.password);
  await expectVisible(page, 'main[data-page="dashboard"]', 'dashboard after signing in');
  assert.notEqual(pathOf(page), '/sign-in', 'no longer on the sign-in page');

  await expectVisible(page, '[data-testid="person-name"]', "the signed-in person's name");
  const name = (await page.locator('[data-testid="person-name"]').first().innerText()).trim();
  assert.ok(name.length > 0, '[data-testid="person-name"] is not empty');

  await expectVisible(page, '[data-panel="clerk"]', "the clerk's panel");
  await screenshot(page, 'a-dashboard-clerk');

  clerkSession = await context.storageState();
});

journey('b. language switch en → km (remembered on reload) → vi', async ({ page, context }) => {
  await openDashboardAsClerk(page, context);
  await assertLanguageLinks(page);
  assert.equal(await htmlLang(page), 'vi', 'the default language is Vietnamese');
  const viH1 = await h1Text(page);
  await screenshot(page, 'b-language-vi-start');

  await clickAndNavigate(page, page.locator('a[hreflang="en"]').first());
  assert.equal(await htmlLang(page), 'en', '<html lang> after clicking English');
  await expectVisible(page, 'main[data-page="dashboard"]', 'still on the dashboard after switching to English');
  const enH1 = await h1Text(page);
  assert.notEqual(enH1, viH1, `the English h1 should differ from the Vietnamese one (both ${JSON.stringify(viH1)})`);
  await assertLanguageLinks(page);
  await screenshot(page, 'b-language-en');

  await clickAndNavigate(page, page.locator('a[hreflang="km"]').first());
  assert.equal(await htmlLang(page), 'km', '<html lang> after clicking Khmer');
  await expectVisible(page, 'main[data-page="dashboard"]', 'still on the dashboard after switching to Khmer');
  const kmH1 = await h1Text(page);
  assert.match(kmH1, KHMER, `the Khmer h1 should contain Khmer script, got ${JSON.stringify(kmH1)}`);
  await screenshot(page, 'b-language-km');

  await page.reload();
  assert.equal(await htmlLang(page), 'km', 'Khmer is remembered after a reload');
  assert.match(await h1Text(page), KHMER, 'the h1 is still Khmer after a reload');
  await screenshot(page, 'b-language-km-reloaded');

  await clickAndNavigate(page, page.locator('a[hreflang="vi"]').first());
  assert.equal(await htmlLang(page), 'vi', '<html lang> after clicking Vietnamese');
  await expectVisible(page, 'main[data-page="dashboard"]', 'still on the dashboard after switching back to Vietnamese');
  assert.equal(await h1Text(page), viH1, 'the Vietnamese h1 is back');
  await screenshot(page, 'b-language-vi');
});

journey('c. sign out returns to /sign-in and / stays closed', async ({ page, context }) => {
  await openDashboardAsClerk(page, context);
  await expectVisible(page, 'form#sign-out button', 'sign-out button');
  await clickAndNavigate(page, page.locator('form#sign-out button').first());
  assert.equal(pathOf(page), '/sign-in', `after signing out the browser should be on /sign-in (is on ${page.url()})`);

  await page.goto('/');
  assert.equal(pathOf(page), '/sign-in', `GET / after signing out should redirect to /sign-in (ended at ${page.url()})`);
  await screenshot(page, 'c-signed-out');
});

journey('d. wrong password shows an alert, in Vietnamese then English', async ({ page }) => {
  await page.goto('/sign-in');
  assert.equal(await htmlLang(page), 'vi', 'a new visitor sees Vietnamese');
  await assertLanguageLinks(page);

  await submitSignIn(page, CLERK.username, 'wrong-password-123');
  assert.equal(pathOf(page), '/sign-in', `a failed sign-in stays on /sign-in (is on ${page.url()})`);
  await expectVisible(page, 'form#sign-in', 'sign-in form after a failed attempt');
  await expectAlert(page, 'Sai tên đăng nhập hoặc mật khẩu');
  await screenshot(page, 'd-wrong-password-vi');

  await clickAndNavigate(page, page.locator('a[hreflang="en"]').first());
  assert.equal(await htmlLang(page), 'en', '<html lang> after clicking English on the sign-in page');
  // Another (non-existent) account, so the per-account throttle of vanthu.skhcn is not touched.
  await submitSignIn(page, 'khong.ton.tai', 'wrong-password-123');
  assert.equal(pathOf(page), '/sign-in', `a failed sign-in stays on /sign-in (is on ${page.url()})`);
  assert.equal(await htmlLang(page), 'en', 'the failed attempt is answered in English');
  await expectAlert(page, 'Wrong user name or password');
  await screenshot(page, 'd-wrong-password-en');
});

journey(
  'e. mobile sign-in page: no horizontal scroll, every input labelled',
  async ({ page }) => {
    await page.goto('/sign-in');
    await expectVisible(page, 'form#sign-in', 'sign-in form');
    const { scrollWidth, clientWidth } = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
    }));
    await screenshot(page, 'e-mobile-sign-in');

    const inputs = await page.evaluate(() =>
      [...document.querySelectorAll('input')]
        .filter((el) => el.type !== 'hidden' && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden')
        .map((el) => ({
          id: el.id,
          name: el.name,
          type: el.type,
          labels: el.labels ? el.labels.length : 0,
        })),
    );
    const unlabelled = inputs.filter((i) => i.labels === 0);

    const problems = [];
    if (scrollWidth > 390) {
      problems.push(
        `at 390×844 the page scrolls sideways: documentElement.scrollWidth = ${scrollWidth} (clientWidth ${clientWidth}); ` +
          'is <meta name="viewport" content="width=device-width, initial-scale=1"> there, and does nothing overflow?',
      );
    }
    if (inputs.length < 2) problems.push(`expected the user name and password inputs, found ${JSON.stringify(inputs)}`);
    if (unlabelled.length) problems.push(`visible inputs without a <label>: ${JSON.stringify(unlabelled)}`);
    assert.deepEqual(problems, [], problems.join('\n'));
  },
  { contextOptions: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 } },
);

journey('f. keyboard: Tab reaches a control with a visible focus ring', async ({ page }) => {
  await page.goto('/sign-in');
  await expectVisible(page, 'form#sign-in', 'sign-in form');
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return null;
    const cs = getComputedStyle(el);
    return {
      tag: el.tagName.toLowerCase(),
      id: el.id,
      text: (el.innerText || el.value || '').slice(0, 60),
      focusVisible: el.matches(':focus-visible'),
      outlineStyle: cs.outlineStyle,
      outlineWidth: cs.outlineWidth,
      outlineColor: cs.outlineColor,
      boxShadow: cs.boxShadow,
    };
  });
  await screenshot(page, 'f-keyboard-focus');
  assert.ok(focused, 'after one Tab something other than <body> has focus');
  assert.ok(
    focused.id === 'username' || ['a', 'button', 'input', 'select', 'textarea', 'summary'].includes(focused.tag),
    `Tab should focus #username or another control, focused ${JSON.stringify(focused)}`,
  );
  const outline = focused.outlineStyle !== 'none' && parseFloat(focused.outlineWidth) > 0;
  const shadow = focused.boxShadow && focused.boxShadow !== 'none';
  assert.ok(outline || shadow, `the focused element shows no focus indicator: ${JSON.stringify(focused)}`);
});
