// Renders uet's HTML report in headless Chromium (offline: any request that is not a local file fails the check),
// saves a PNG, checks the PNG is not blank and the Gantt chart has one lane per worker and one bar per attempt, and
// parses + renders the Markdown report's Mermaid block with the mermaid package, in the same browser.
//
// usage: node check.mjs REPORT_DIR OUT_PNG
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';

const [reportDir, outPng] = process.argv.slice(2);
if (!reportDir || !outPng) {
  console.error('usage: node check.mjs REPORT_DIR OUT_PNG');
  process.exit(2);
}

const here = fileURLToPath(new URL('.', import.meta.url));
const report = JSON.parse(readFileSync(join(reportDir, 'UET_EXECUTION_REPORT.json'), 'utf8'));
const markdown = readFileSync(join(reportDir, 'UET_EXECUTION_REPORT.md'), 'utf8');
const expectedLanes = report.lanes.length;
const expectedBars = report.lanes.reduce((n, lane) => n + lane.bars.length, 0);
const failures = [];
const fail = (message) => { failures.push(message); console.error('FAIL ' + message); };
const ok = (message) => console.log('ok   ' + message);

const profile = mkdtempSync(join(tmpdir(), 'uet-chromium-'));
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  userDataDir: profile,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});

try {
  // 1. The HTML report: offline, lanes and bars, a PNG.
  const page = await browser.newPage();
  await page.setViewport({ width: 1200, height: 900 });
  const remote = [];
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    const url = request.url();
    if (url.startsWith('file:') || url.startsWith('data:') || url.startsWith('about:')) {
      request.continue();
    } else {
      remote.push(url);
      request.abort();
    }
  });
  await page.goto(pathToFileURL(resolve(reportDir, 'UET_EXECUTION_REPORT.html')).href, { waitUntil: 'load' });
  remote.length === 0 ? ok('the HTML report loads nothing from the network') : fail(`the HTML report asked for ${remote.join(', ')}`);

  const drawn = await page.evaluate(() => {
    const lanes = [...document.querySelectorAll('svg.gantt g.lane')];
    return {
      lanes: lanes.map((lane) => ({
        worker: lane.getAttribute('data-worker'),
        bars: lane.querySelectorAll('rect.bar').length,
        visibleBars: [...lane.querySelectorAll('rect.bar')].filter((r) => r.getBBox().width > 0 && r.getBBox().height > 0).length,
      })),
      workstreamRows: document.querySelectorAll('table.workstreams tr.workstream').length,
    };
  });
  drawn.lanes.length === expectedLanes && expectedLanes > 0
    ? ok(`${drawn.lanes.length} Gantt lanes, one per worker (${drawn.lanes.map((l) => l.worker).join(', ')})`)
    : fail(`expected ${expectedLanes} Gantt lanes, found ${drawn.lanes.length}`);
  const bars = drawn.lanes.reduce((n, l) => n + l.visibleBars, 0);
  bars === expectedBars ? ok(`${bars} bars drawn, one per attempt`) : fail(`expected ${expectedBars} visible bars, found ${bars}`);
  for (const lane of report.lanes) {
    const shown = drawn.lanes.find((l) => l.worker === lane.worker_id);
    if (!shown || shown.bars !== lane.bars.length) fail(`lane ${lane.worker_id}: expected ${lane.bars.length} bars, found ${shown?.bars}`);
  }
  drawn.workstreamRows === report.workstreams.length
    ? ok(`${drawn.workstreamRows} workstream rows`)
    : fail(`expected ${report.workstreams.length} workstream rows, found ${drawn.workstreamRows}`);

  await page.screenshot({ path: outPng, fullPage: true });
  const gantt = await page.$('svg.gantt');
  const ganttPng = await gantt.screenshot({ encoding: 'base64' });
  writeFileSync(outPng.replace(/\.png$/, '') + '-gantt.png', Buffer.from(ganttPng, 'base64'));

  // Read the pixels back in a blank page (the report's own CSP forbids images): the page is not blank, and the chart
  // has green (completed) and red (failed) bars.
  const scratch = await browser.newPage();
  const pixels = await scratch.evaluate(async (full, chart) => {
    const count = async (b64) => {
      const image = new Image();
      image.src = 'data:image/png;base64,' + b64;
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext('2d');
      context.drawImage(image, 0, 0);
      const data = context.getImageData(0, 0, image.width, image.height).data;
      let ink = 0, green = 0, red = 0;
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
        if (r < 240 || g < 240 || b < 240) ink++;
        if (g > 140 && r < 80 && b < 110) green++;
        if (r > 180 && g < 60 && b < 70) red++;
      }
      return { width: image.width, height: image.height, ink, green, red };
    };
    return { page: await count(full), gantt: await count(chart) };
  }, readFileSync(outPng).toString('base64'), ganttPng);
  const inkShare = pixels.page.ink / (pixels.page.width * pixels.page.height);
  inkShare > 0.02
    ? ok(`PNG ${pixels.page.width}x${pixels.page.height} is not blank (${(inkShare * 100).toFixed(1)} % ink)`)
    : fail(`the PNG looks blank (${(inkShare * 100).toFixed(2)} % ink)`);
  const failedBars = report.lanes.flatMap((l) => l.bars).filter((b) => b.state === 'failed').length;
  pixels.gantt.green > 100 ? ok(`Gantt PNG has completed (green) bars: ${pixels.gantt.green} px`) : fail('no green bars in the Gantt PNG');
  if (failedBars > 0) {
    pixels.gantt.red > 20 ? ok(`Gantt PNG has failed (red) bars: ${pixels.gantt.red} px`) : fail('no red bars in the Gantt PNG, though attempts failed');
  }

  // 2. The Markdown report's Mermaid block: parsed and rendered by mermaid itself.
  const match = markdown.match(/```mermaid\n([\s\S]*?)\n```/);
  if (!match) {
    fail('the Markdown report has no ```mermaid block');
  } else {
    const mermaidPage = await browser.newPage();
    await mermaidPage.setContent('<!DOCTYPE html><html><body><div id="out"></div></body></html>');
    await mermaidPage.addScriptTag({ path: join(here, 'node_modules', 'mermaid', 'dist', 'mermaid.min.js') });
    const result = await mermaidPage.evaluate(async (code) => {
      try {
        window.mermaid.initialize({ startOnLoad: false });
        const parsed = await window.mermaid.parse(code);
        const { svg } = await window.mermaid.render('uetgantt', code);
        const holder = document.getElementById('out');
        holder.innerHTML = svg;
        return {
          type: parsed.diagramType,
          tasks: holder.querySelectorAll('rect.task').length,
          sections: holder.querySelectorAll('text.sectionTitle').length,
        };
      } catch (error) {
        return { error: String(error?.message ?? error) };
      }
    }, match[1]);
    if (result.error) {
      fail('mermaid could not parse the Markdown report\'s block: ' + result.error);
    } else {
      result.type === 'gantt' ? ok('the Mermaid block parses as a gantt chart') : fail(`the Mermaid block is a ${result.type}, not a gantt`);
      result.tasks === expectedBars ? ok(`mermaid drew ${result.tasks} tasks, one per attempt`) : fail(`mermaid drew ${result.tasks} tasks, expected ${expectedBars}`);
      result.sections === expectedLanes ? ok(`mermaid drew ${result.sections} sections, one per worker`) : fail(`mermaid drew ${result.sections} sections, expected ${expectedLanes}`);
    }
  }
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}

console.log(failures.length === 0 ? `report render check passed; PNG: ${outPng}` : `report render check FAILED (${failures.length})`);
process.exit(failures.length === 0 ? 0 : 1);
