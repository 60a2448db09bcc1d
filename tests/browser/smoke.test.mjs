// Tooling check that needs no server: playwright-core drives the system
// Chromium headless, renders a data: URL page and saves a screenshot.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';

import { freePort, launchBrowser, newContext, screenshot } from './harness.mjs';

let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

test('chromium launches headless and renders a data: URL', { timeout: 30_000 }, async () => {
  assert.ok(browser.isConnected(), 'browser is connected');
  assert.match(browser.version(), /^\d+\./, 'browser reports a version');

  const context = await newContext(browser, undefined);
  try {
    const page = await context.newPage();
    const html = `<!doctype html><html lang="vi"><head><meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>Liên Thông smoke</title></head>
      <body style="font-family: sans-serif"><h1>Xin chào — សួស្តី — Hello</h1>
      <label for="q">Tìm kiếm</label> <input id="q" name="q"></body></html>`;
    await page.goto(`data:text/html;charset=utf-8,${encodeURIComponent(html)}`);

    assert.equal(await page.title(), 'Liên Thông smoke');
    assert.equal(await page.locator('html').getAttribute('lang'), 'vi');
    assert.equal(await page.locator('h1').innerText(), 'Xin chào — សួស្តី — Hello');
    assert.equal(await page.evaluate(() => document.querySelector('#q').labels.length), 1);

    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'q', 'Tab moves focus to the input');

    const file = await screenshot(page, 'smoke');
    const png = fs.readFileSync(file);
    assert.ok(png.length > 1000, `screenshot has content (${png.length} bytes)`);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  } finally {
    await context.close();
  }
});

test('freePort returns a bindable loopback port', async () => {
  const port = await freePort();
  assert.ok(Number.isInteger(port) && port > 0 && port < 65536, `port ${port}`);
});
