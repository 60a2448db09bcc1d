// Shared plumbing for the browser journeys: a real `lienthong serve` on a
// free loopback port with a throw-away data dir, and the system Chromium
// driven by playwright-core (no downloaded browser).
//
// Environment:
//   LIENTHONG_BIN   server binary (default: <repo>/target/debug/lienthong)
//   CHROMIUM        browser binary (default: /usr/bin/chromium)
//   KEEP_DATA=1     keep the server's temporary data dir after the run
//   SERVER_LOG=1    echo the server's output live to stderr

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const screenshotDir = path.join(repoRoot, 'target', 'browser-screenshots');
export const logDir = path.join(repoRoot, 'target', 'browser-logs');

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const HEALTH_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
const MAX_LOG_CHARS = 256 * 1024;

/** The server binary: $LIENTHONG_BIN (relative to the cwd) or target/debug/lienthong. */
export function serverBinary() {
  const fromEnv = process.env.LIENTHONG_BIN;
  return fromEnv ? path.resolve(fromEnv) : path.join(repoRoot, 'target', 'debug', 'lienthong');
}

/** A loopback TCP port that was free a moment ago (bind port 0, read it, close). */
export async function freePort() {
  const srv = net.createServer();
  srv.unref();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves to 'timeout' after ms unless `promise` settles first; never holds the event loop open. */
async function within(promise, ms) {
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// Every server started here, so a crash of the test process still kills them.
const live = new Set();
process.on('exit', () => {
  for (const child of live) killTree(child, 'SIGKILL');
});

function killTree(child, signal) {
  try {
    // Negative pid: the whole process group (the child was spawned detached).
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

/**
 * Starts `$BIN serve --data <tmp> --listen 127.0.0.1:<port> --demo` and waits
 * until GET /healthz answers 200. Returns { baseURL, port, dataDir, output(), stop() }.
 *
 * `name` labels the log file written to target/browser-logs/<name>-server.log.
 */
export async function startServer({ name = 'server', bin = serverBinary(), extraArgs = [], env = {} } = {}) {
  if (!fs.existsSync(bin)) {
    throw new Error(`server binary not found: ${bin} (build it with \`cargo build -p lienthong\` or set LIENTHONG_BIN)`);
  }
  const port = await freePort();
  const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'lienthong-browser-'));
  const baseURL = `http://127.0.0.1:${port}`;
  const args = ['serve', '--data', dataDir, '--listen', `127.0.0.1:${port}`, '--demo', ...extraArgs];

  const child = spawn(bin, args, {
    cwd: dataDir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group, so stop() reaches any grandchildren too
  });
  live.add(child);

  let log = '';
  const append = (stream) => (chunk) => {
    const text = chunk.toString();
    log += text;
    if (log.length > MAX_LOG_CHARS) log = log.slice(-MAX_LOG_CHARS);
    if (process.env.SERVER_LOG) process.stderr.write(`[${name} ${stream}] ${text}`);
  };
  child.stdout.on('data', append('out'));
  child.stderr.on('data', append('err'));

  let exited = null; // { code, signal } once the process is gone
  let spawnError = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      live.delete(child);
      resolve(exited);
    });
    child.on('error', (err) => {
      // Could not be started (or signalled); there may be no 'exit' after this.
      spawnError = err;
      if (child.pid === undefined) {
        exited = { code: null, signal: null, error: err.message };
        live.delete(child);
        resolve(exited);
      }
    });
  });

  const output = () => log;
  const describe = (limit = Infinity) => {
    const shown = log.length > limit ? `[… ${log.length - limit} earlier chars in the log file …]\n${log.slice(-limit)}` : log;
    return `command: ${bin} ${args.join(' ')}\n----- server output (stdout+stderr) -----\n${shown || '(none)'}\n----- end of server output -----`;
  };
  const logFile = path.join(logDir, `${slug(name)}-server.log`);

  let stopped = false;
  async function stop() {
    if (stopped) return exited;
    stopped = true;
    if (!exited) {
      killTree(child, 'SIGTERM');
      if ((await within(exitPromise, STOP_GRACE_MS)) === 'timeout') {
        process.stderr.write(`[${name}] server did not stop within ${STOP_GRACE_MS} ms of SIGTERM; sending SIGKILL\n`);
        killTree(child, 'SIGKILL');
        await within(exitPromise, STOP_GRACE_MS);
      }
    }
    // Make sure nothing of the group outlived the leader (e.g. a wrapper script).
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* group already empty */
    }
    await fsp.mkdir(logDir, { recursive: true });
    await fsp.writeFile(logFile, `${describe()}\nexit: ${JSON.stringify(exited)}\n`);
    if (!process.env.KEEP_DATA) await fsp.rm(dataDir, { recursive: true, force: true });
    return exited;
  }

  // Poll /healthz until it answers 200, the process dies, or time runs out.
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  let lastProblem = 'no answer yet';
  for (;;) {
    if (spawnError) lastProblem = `spawn failed: ${spawnError.message}`;
    if (exited || spawnError) {
      await stop();
      throw new Error(
        `server exited before /healthz answered (exit ${JSON.stringify(exited)}; ${lastProblem})\n${describe(8000)}\nfull log: ${logFile}`,
      );
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `GET ${baseURL}/healthz did not answer 200 within ${HEALTH_TIMEOUT_MS / 1000} s (last: ${lastProblem})\n${describe(8000)}\nfull log: ${logFile}`,
      );
    }
    try {
      const res = await fetch(`${baseURL}/healthz`, { signal: AbortSignal.timeout(2_000), redirect: 'manual' });
      await res.arrayBuffer().catch(() => {});
      if (res.status === 200) break;
      lastProblem = `HTTP ${res.status}`;
    } catch (err) {
      lastProblem = err.cause?.code || err.message;
    }
    await sleep(100);
  }

  return { baseURL, port, dataDir, pid: child.pid, output, describe, stop, exited: () => exited };
}

/** Launches the system Chromium headless through playwright-core. */
export async function launchBrowser() {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/** Defaults for a new browser context: a Vietnamese user in Viet Nam. */
export const CONTEXT_DEFAULTS = {
  locale: 'vi-VN',
  timezoneId: 'Asia/Ho_Chi_Minh',
  viewport: { width: 1280, height: 800 },
};

/** A fresh browser context (own cookies) with short timeouts, bound to baseURL. */
export async function newContext(browser, baseURL, options = {}) {
  const context = await browser.newContext({ ...CONTEXT_DEFAULTS, baseURL, ...options });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  return context;
}

export function slug(name) {
  return (
    String(name)
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/[^A-Za-z0-9_-]+/g, '-')
      .replace(/-{2,}/g, '-')
      .replace(/^-+|-+$/g, '')
      .toLowerCase() || 'page'
  );
}

/** Saves a full-page PNG to target/browser-screenshots/<name>.png and returns its path. */
export async function screenshot(page, name) {
  await fsp.mkdir(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, `${slug(name)}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
