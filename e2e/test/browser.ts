// Debian's Chromium driven by playwright-core (no browser download: `npx playwright install` cannot work offline).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '@tandem/config';
import { type Browser, chromium } from 'playwright-core';

export const chromiumPath = '/usr/bin/chromium';

/** Where the browser tests leave their screenshots (git-ignored). */
export const artifactsDir = join(projectRoot, 'e2e', 'artifacts');

export function launchChromium(): Promise<Browser> {
  mkdirSync(artifactsDir, { recursive: true });
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // Without the background-networking flags Chromium keeps calling home, and a closed network refuses it.
    // playwright gives every launch a fresh profile (--user-data-dir) of its own.
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
}
