/**
 * Debian's chromium for the browser specs, driven by playwright-core (which downloads no
 * browser). In CI the browser must be there (.ci/run installs it); elsewhere a spec skips.
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Whether the browser is installed; says so (or fails, under CI) when it is not. */
export function browserPresent(what: string): boolean {
  const present = existsSync(CHROMIUM);
  if (!present && process.env.CI) throw new Error(`No browser at ${CHROMIUM}: install Debian's chromium package (.ci/run does).`);
  if (!present) console.warn(`${what} skipped: no browser at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH).`);
  return present;
}

/**
 * Headless, as root, on a machine with no network but loopback: without the background
 * networking flags Chromium's own connections are refused, many at a time. Playwright gives
 * every launch a fresh profile folder of its own.
 */
export const launchChromium = () =>
  chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
