// Drives the player page of sse-serve in Debian's headless chromium:
//   node player.js BASE_URL MEDIA_NAME
// Opens BASE_URL/?file=MEDIA_NAME (which starts the analysis), waits until
// two chunk_ready events have arrived and playback has crossed from the
// first chunk into the second, then prints one JSON line with what the
// page saw.  Exit 0 when it got that far, 1 otherwise (the JSON says why).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const WAIT_MS = 60000;   // the whole wait for chunks and playback

async function main() {
  const [base, file] = process.argv.slice(2);
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'playcall-chromium-'));
  const result = { ok: false, console: [] };
  let ctx;
  try {
    ctx = await chromium.launchPersistentContext(userDir, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--autoplay-policy=no-user-gesture-required'],
    });
    const page = ctx.pages()[0] || await ctx.newPage();
    page.on('console', (m) => result.console.push(m.type() + ': ' + m.text()));
    page.on('pageerror', (e) => result.console.push('pageerror: ' + e.message));
    await page.goto(base + '?file=' + encodeURIComponent(file));
    result.canPlayH264 = await page.evaluate(() =>
      document.createElement('video').canPlayType('video/mp4; codecs="avc1.42E01E, mp4a.40.2"'));
    await page.waitForFunction(() => window.playcall && window.playcall.chunksReceived >= 2,
      null, { timeout: WAIT_MS });
    result.received = await page.evaluate(() => window.playcall.chunksReceived);
    // Across the boundary: the first chunk played to its end, the page
    // switched to the second video, and the second one's clock runs.
    await page.waitForFunction(() => {
      const pc = window.playcall;
      const on = document.querySelector('video.on');
      return pc.chunksPlayed >= 1 && pc.switches >= 1 && on && on.currentTime > 0.3;
    }, null, { timeout: WAIT_MS, polling: 100 });
    const t1 = await page.evaluate(() => window.playcall.time());
    await page.waitForTimeout(500);
    Object.assign(result, await page.evaluate(() => {
      const pc = window.playcall;
      const on = document.querySelector('video.on');
      return {
        time: pc.time(), played: pc.chunksPlayed, switches: pc.switches, errors: pc.errors,
        playingSrc: on ? on.currentSrc : null, playingTime: on ? on.currentTime : null,
        complete: pc.complete ? pc.complete.type : null,
        finalHref: document.getElementById('finalLink').getAttribute('href'),
        finalShown: !document.getElementById('final').hidden,
        progress: document.getElementById('bar').value,
        status: document.getElementById('status').textContent,
        caption: document.getElementById('caption').textContent,
      };
    }));
    result.timeBefore = t1;
    if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT });
    result.ok = true;
  } catch (e) {
    result.error = String(e && e.message || e).split('\n')[0];
  } finally {
    if (ctx) await ctx.close().catch(() => {});
    fs.rmSync(userDir, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(result.ok ? 0 : 1);
}
main();
