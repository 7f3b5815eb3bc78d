import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from '../rules/paths';
import type { SequenceRun } from '../model/evaluate';
import type { Evaluation } from '../model/metrics';
import { pct, sequenceName } from './terminal';
import { evaluateOutcomes } from '../model/metrics';
import type { LearningPoint, ModelFile } from '../model/types';

/** uPlot, inlined so the page needs no network. */
function uplotAssets(): { js: string; css: string } {
  const dir = path.dirname(require.resolve('uplot', { paths: [projectRoot()] }));
  const dist = fs.existsSync(path.join(dir, 'uPlot.iife.min.js')) ? dir : path.join(dir, 'dist');
  return {
    js: fs.readFileSync(path.join(dist, 'uPlot.iife.min.js'), 'utf8'),
    css: fs.readFileSync(path.join(dist, 'uPlot.min.css'), 'utf8'),
  };
}

const esc = (s: string): string =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
/** JSON inside <script>: no "</script>" can close it early */
const js = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c');

const MAX_POINTS = 20000;

/**
 * One self-contained HTML page: per sequence the timeline of truth, final prediction and
 * probability; the learning curve (when the model has one); the confusion matrix. The page's
 * script marks each drawn chart with data-rendered="1" (the browser test looks for it).
 */
export function reportHtml(model: ModelFile, modelFile: string, e: Evaluation, runs: readonly SequenceRun[]): string {
  const { js: uplot, css } = uplotAssets();
  const timelines = runs.map((r) => {
    const step = Math.max(1, Math.ceil(r.times.length / MAX_POINTS));
    const t: number[] = [];
    const truth: (number | null)[] = [];
    const fin: number[] = [];
    const prob: number[] = [];
    for (let i = 0; i < r.times.length; i += step) {
      t.push(r.times[i] - r.times[0]);
      truth.push(r.labels[i] < 0 ? null : r.labels[i]);
      fin.push(r.final[i] * 0.9 + 0.05);
      prob.push(Math.round(r.prob[i] * 1000) / 1000);
    }
    return { title: sequenceName(r), data: [t, truth, fin, prob] };
  });
  const c = e.confusion;
  const curve: LearningPoint[] = model.learningCurve ?? [];
  const perFlow = runs
    .map((r) => ({ name: sequenceName(r), e: evaluateOutcomes([r]) }))
    .map(
      ({ name, e: f }) =>
        `<tr><th>${esc(name)}</th><td>${f.windows}</td><td>${f.windows ? pct(f.accuracy) : '—'}</td>` +
        `<td>${f.windows ? pct(f.rawAccuracy) : '—'}</td><td>${f.delayS === null ? '—' : `${f.delayS.toFixed(1)} s`}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>spymate evaluation</title>
<style>${css}
body{font:14px system-ui,sans-serif;margin:1em 2em;color:#222}table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.3em .8em;text-align:right}
#flows th{text-align:left;font-weight:normal}
.tp,.tn{background:#d8f0d8}.fp,.fn{background:#f6dada}h2{margin-top:1.5em}</style></head><body>
<h1>spymate evaluation</h1>
<p>Model <code>${esc(path.basename(modelFile))}</code> (${esc(model.algorithm)}, ${model.features.length} features, trained on ${esc(model.trainedOn)}).
${e.windows} labelled windows: accuracy of the final causal predictions <b>${pct(e.accuracy)}</b>, per-window classifier ${pct(e.rawAccuracy)},
precision ${pct(e.precision)}, recall ${pct(e.recall)}, F1 ${pct(e.f1)}, median detection delay ${e.delayS === null ? 'n/a' : `${e.delayS.toFixed(1)} s`}.</p>
<h2>Confusion matrix (final predictions)</h2>
<table id="confusion"><tr><th></th><th>predicted background</th><th>predicted person</th></tr>
<tr><th>truth background</th><td class="tn">${c.tn}</td><td class="fp">${c.fp}</td></tr>
<tr><th>truth person</th><td class="fn">${c.fn}</td><td class="tp">${c.tp}</td></tr></table>
<h2>Accuracy per flow</h2>
<table id="flows"><tr><th>flow</th><th>labelled windows</th><th>accuracy (final)</th><th>per-window classifier</th><th>median delay</th></tr>
${perFlow}</table>
<h2>Learning curve</h2>
<div id="learning">${curve.length ? '' : '<p>Not in this model: train with <code>--learning-curve</code>.</p>'}</div>
<h2>Timeline: truth vs prediction</h2>
<div id="timelines"></div>
<script>${uplot}</script>
<script>
(function(){
  var timelines = ${js(timelines)};
  var curve = ${js(curve)};
  // the charts take the page's width, and follow it when the window is resized
  function pageWidth(){ return Math.max(320, (document.body.clientWidth || 1100) - 20); }
  var charts = [];
  function mark(u, id){
    u.root.setAttribute('data-rendered', '1');
    u.root.setAttribute('data-chart', id);
    u.root.setAttribute('data-y-title', u.axes[1].label || '');
  }
  timelines.forEach(function(tl, i){
    var box = document.createElement('div');
    var h = document.createElement('h3'); h.textContent = tl.title; box.appendChild(h);
    document.getElementById('timelines').appendChild(box);
    var u = new uPlot({ width: pageWidth(), height: 220, scales: { x: { time: false }, y: { range: [-0.05, 1.05] } },
      legend: { live: false },
      axes: [{ label: 'seconds' }, { label: 'person (1) / background (0)', size: 60 }],
      series: [{}, { label: 'truth (person=1)', stroke: '#2a7', width: 2, paths: uPlot.paths.stepped({ align: 1 }) },
        { label: 'final prediction', stroke: '#c33', width: 1.5, paths: uPlot.paths.stepped({ align: 1 }) },
        { label: 'probability', stroke: '#88a', width: 1 }] }, tl.data, box);
    mark(u, 'timeline-' + i);
    charts.push(u);
  });
  if (curve.length) {
    var u = new uPlot({ width: pageWidth(), height: 260, scales: { x: { time: false }, y: { range: [0, 1] } },
      legend: { live: false },
      axes: [{ label: 'training windows' }, { label: 'accuracy', size: 60 }],
      series: [{}, { label: 'training', stroke: '#36c', width: 2, points: { show: true } }, { label: 'validation', stroke: '#e70', width: 2, points: { show: true } }] },
      [curve.map(function(p){ return p.size; }), curve.map(function(p){ return p.trainAccuracy; }), curve.map(function(p){ return p.validationAccuracy; })],
      document.getElementById('learning'));
    mark(u, 'learning');
    charts.push(u);
  }
  window.addEventListener('resize', function(){
    charts.forEach(function(u){ u.setSize({ width: pageWidth(), height: u.height }); });
  });
  document.body.setAttribute('data-charts-done', String(document.querySelectorAll('[data-rendered="1"]').length));
})();
</script></body></html>
`;
}
