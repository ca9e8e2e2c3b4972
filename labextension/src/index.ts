/**
 * Renders an autotune_nb study document (`application/vnd.autotune.study+json`, the export format
 * of `autotune_nb/export.py`) in JupyterLab without a kernel: a notebook reopened later still
 * shows its studies.
 *
 * Every string of the document comes from the user (study name, parameter names and values,
 * errors), so the view is built with DOM APIs only (`textContent`, `createElementNS`), never by
 * parsing HTML.
 */

import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';
import { element } from './dom';

export const MIME_TYPE = 'application/vnd.autotune.study+json';
const FORMAT = 'autotune-study';
const VERSION = 1;
const TOP_N = 10;

/** JupyterLab's text/html renderer has rank 50; a lower rank is preferred. */
const RANK = 40;

const SVG_NS = 'http://www.w3.org/2000/svg';
const SVG_WIDTH = 560;
const SVG_HEIGHT = 220;
const MARGIN = { left: 84, right: 16, top: 12, bottom: 30 };

/** The order the states are listed in, and their colours: autotune_nb/views/palette.py's STATE_COLORS
 * (Okabe-Ito), copied; tests/unit/test_accessibility.py checks the copy. */
const STATE_COLORS: ReadonlyArray<[string, string]> = [
  ['RUNNING', '#009e73'],
  ['SUCCEEDED', '#0072b2'],
  ['EARLY_STOPPED', '#e69f00'],
  ['FAILED', '#d55e00'],
  ['CANCELED', '#999999'],
  ['TIMEOUT', '#cc79a7'],
  ['WAITING', '#bbbbbb']
];
const PLOTTED_STATES = ['SUCCEEDED', 'EARLY_STOPPED', 'FAILED', 'CANCELED', 'TIMEOUT'];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** One trial as the renderer uses it; every optional field of the document may be missing. */
interface TrialView {
  number: number;
  params: JsonObject;
  state: string;
  value: number | null;
  lastIntermediate: number | null;
  duration: number | null;
  gpu: string | null;
  /** Its place in a Hyperband/BOHB or PBT schedule, in words (`lineageOf`); '' without directives. */
  lineage: string;
}

interface StudyView {
  name: string;
  state: string | null;
  direction: 'maximize' | 'minimize';
  tuner: string;
  assessor: string;
  paramNames: string[];
  /** The trials the document holds: all of them, or a sample when `note` says so. */
  trials: TrialView[];
  /** The study's trial count and count per state: the document's, else those of `trials`. */
  total: number;
  counts: Map<string, number>;
  /** Set when the document holds only part of the study (a saved notebook caps it). */
  note: string | null;
}

// --- reading the document ---------------------------------------------------------------------

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const NON_FINITE: { [tag: string]: number } = {
  Infinity: Infinity,
  '-Infinity': -Infinity,
  NaN: NaN
};

/** A number of the document: JSON numbers, and the export's `{"$float": "NaN"}` tags. */
function numberOf(value: unknown): number | null {
  if (typeof value === 'number') {
    return value;
  }
  if (isObject(value) && typeof value['$float'] === 'string' && value['$float'] in NON_FINITE) {
    return NON_FINITE[value['$float']];
  }
  return null;
}

function stringOf(value: unknown, fallback: string): string {
  return typeof value === 'string' && value ? value : fallback;
}

function pluginName(value: unknown, fallback: string): string {
  return isObject(value) ? stringOf(value.name, fallback) : fallback;
}

function lastIntermediate(value: unknown): number | null {
  if (!Array.isArray(value) || !value.length) {
    return null;
  }
  const last = value[value.length - 1];
  return Array.isArray(last) && last.length === 2 ? numberOf(last[1]) : null;
}

function durationOf(trial: JsonObject): number | null {
  const duration = numberOf(trial.duration);
  if (duration !== null) {
    return duration;
  }
  const start = numberOf(trial.started_at);
  const end = numberOf(trial.finished_at);
  return start !== null && end !== null ? end - start : null;
}

/** A trial's `directives` in the words of autotune_nb/views/lineage.py's `lineage_label`, which
 * tests/browser/test_mime_renderer.py compares with this: "bracket 0 rung 1 · budget 3 · from #7 (checkpoint)". */
export function lineageOf(directives: unknown): string {
  if (!isObject(directives)) {
    return '';
  }
  const parts: string[] = [];
  const bracket = numberOf(directives.bracket);
  const generation = numberOf(directives.generation);
  const budget = numberOf(directives.budget);
  const parent = numberOf(directives.parent);
  if (bracket !== null) {
    parts.push(`bracket ${bracket} rung ${numberOf(directives.rung)}`);
  }
  if (generation !== null) {
    parts.push(`generation ${generation} member ${numberOf(directives.member)}`);
  }
  if (budget !== null) {
    parts.push(`budget ${Number(budget.toPrecision(6))}`);
  }
  if (parent !== null) {
    const how = directives.resumed === true ? ' (checkpoint)' : directives.resumed === false ? ' (rerun)' : '';
    parts.push(`from #${parent}${how}`);
  }
  return parts.join(' · ');
}

function trialOf(data: unknown, index: number): TrialView | null {
  if (!isObject(data)) {
    return null;
  }
  const number = numberOf(data.number);
  return {
    number: number !== null && Number.isFinite(number) ? number : index,
    params: isObject(data.params) ? data.params : {},
    state: stringOf(data.state, 'WAITING').toUpperCase(),
    value: numberOf(data.value),
    lastIntermediate: lastIntermediate(data.intermediates),
    duration: durationOf(data),
    gpu: typeof data.gpu === 'string' ? data.gpu : null,
    lineage: lineageOf(data.directives)
  };
}

/** The top-level parameters: the search space's keys, else those the trials used. */
function paramNamesOf(space: unknown, trials: TrialView[]): string[] {
  if (isObject(space) && Object.keys(space).length) {
    return Object.keys(space);
  }
  const names = new Set<string>();
  trials.forEach(trial => Object.keys(trial.params).forEach(name => names.add(name)));
  return [...names];
}

/** Trials per state: the document's `counts` (of the whole study), else counted from `trials`. */
function countsOf(counts: unknown, trials: TrialView[]): Map<string, number> {
  const result = new Map<string, number>();
  if (isObject(counts)) {
    Object.keys(counts).forEach(state => {
      const count = numberOf(counts[state]);
      if (count !== null && count > 0) {
        result.set(state.toUpperCase(), count);
      }
    });
    return result;
  }
  trials.forEach(t => result.set(t.state, (result.get(t.state) ?? 0) + 1));
  return result;
}

/** The study, or a message saying why this document cannot be shown. */
export function readDocument(data: unknown): StudyView | string {
  if (!isObject(data)) {
    return 'This output is not an autotune_nb study document (expected a JSON object).';
  }
  if (data.format !== FORMAT) {
    return (
      `This output is not an autotune_nb study document: its format is ${JSON.stringify(data.format ?? null)}, ` +
      `expected "${FORMAT}".`
    );
  }
  const version = numberOf(data.version);
  if (version === null || !Number.isInteger(version) || version < 1) {
    return `This autotune_nb study document has no valid format version (got ${JSON.stringify(data.version ?? null)}).`;
  }
  if (version > VERSION) {
    return (
      `This study was saved by a newer autotune_nb (format version ${version}); this JupyterLab extension ` +
      `reads up to version ${VERSION}. Upgrade autotune_nb (pip install -U autotune_nb) and reload JupyterLab.`
    );
  }
  const study = isObject(data.study) ? data.study : {};
  const rawTrials = Array.isArray(data.trials) ? data.trials : [];
  const trials = rawTrials
    .map((trial, index) => trialOf(trial, index))
    .filter((trial): trial is TrialView => trial !== null)
    .sort((a, b) => a.number - b.number);
  const total = numberOf(data.trials_total);
  return {
    name: stringOf(study.name, 'unnamed study'),
    state: typeof study.state === 'string' ? study.state : null,
    direction: study.direction === 'minimize' ? 'minimize' : 'maximize',
    tuner: pluginName(study.tuner, 'unknown'),
    assessor: pluginName(study.assessor, 'none'),
    paramNames: paramNamesOf(study.space, trials),
    trials,
    total: total !== null && Number.isInteger(total) && total >= trials.length ? total : trials.length,
    counts: countsOf(data.counts, trials),
    note: typeof data.note === 'string' && data.note ? data.note : null
  };
}

// --- the numbers ------------------------------------------------------------------------------

export function formatValue(value: unknown): string {
  const number = numberOf(value);
  if (number !== null) {
    return Number.isInteger(number) ? String(number) : String(Number(number.toPrecision(6)));
  }
  if (typeof value === 'boolean') {
    return value ? 'True' : 'False';
  }
  if (Array.isArray(value)) {
    return '[' + value.map(formatValue).join(', ') + ']';
  }
  if (isObject(value)) {
    const inner = Object.keys(value)
      .filter(key => key !== '_name')
      .map(key => `${key}=${formatValue(value[key])}`)
      .join(', ');
    return typeof value._name === 'string' ? `${value._name}(${inner})` : `{${inner}}`;
  }
  return value === null || value === undefined ? '' : String(value);
}

function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) {
    return '–';
  }
  if (seconds < 60) {
    return `${seconds.toFixed(1)} s`;
  }
  const totalMinutes = Math.floor(Math.round(seconds) / 60);
  const secs = Math.round(seconds) % 60;
  if (totalMinutes < 60) {
    return `${totalMinutes} min ${String(secs).padStart(2, '0')} s`;
  }
  return `${Math.floor(totalMinutes / 60)} h ${String(totalMinutes % 60).padStart(2, '0')} min`;
}

function stateLabel(state: string): string {
  return state.toLowerCase().replace(/_/g, '-');
}

function stateColor(state: string): string {
  const entry = STATE_COLORS.find(([name]) => name === state);
  return entry ? entry[1] : '#bbbbbb';
}

/** Whether `value` is a better result than `than`: the one rule of "best" here, as `Direction.better`
 * is in Python (autotune_nb/vocabulary.py). */
function better(direction: StudyView['direction'], value: number, than: number): boolean {
  return direction === 'maximize' ? value > than : value < than;
}

/** Succeeded trials with a result, best first (ties: the lower trial number). */
export function rankedTrials(study: StudyView): TrialView[] {
  const rank = (a: number, b: number): number =>
    better(study.direction, a, b) ? -1 : better(study.direction, b, a) ? 1 : 0;
  return study.trials
    .filter(t => t.state === 'SUCCEEDED' && t.value !== null && !Number.isNaN(t.value))
    .sort((a, b) => rank(a.value as number, b.value as number) || a.number - b.number);
}

/** What a trial plots: its result if it succeeded, else its last intermediate result. */
function plottedValue(trial: TrialView): number | null {
  const value = trial.state === 'SUCCEEDED' ? trial.value : trial.lastIntermediate;
  return value !== null && Number.isFinite(value) ? value : null;
}

// --- the DOM ----------------------------------------------------------------------------------

function svgElement(tag: string, attributes: { [name: string]: string | number }): SVGElement {
  const node = document.createElementNS(SVG_NS, tag);
  Object.keys(attributes).forEach(name => node.setAttribute(name, String(attributes[name])));
  return node;
}

function headerView(study: StudyView): HTMLElement {
  const header = element('div', 'autotune-lab-header');
  header.append(
    element('span', 'autotune-lab-name', study.name),
    element('span', 'autotune-lab-tuner', `tuner ${study.tuner}`),
    element('span', 'autotune-lab-assessor', `assessor ${study.assessor}`),
    element('span', 'autotune-lab-direction', study.direction),
    element('span', 'autotune-lab-state', study.state ?? 'state unknown')
  );
  return header;
}

/** A bar split by state (the study's progress), and the count of each state in words. */
function countsView(study: StudyView): HTMLElement {
  const counts = study.counts;
  const view = element('div', 'autotune-lab-counts');
  const bar = element('div', 'autotune-lab-progress');
  const words: string[] = [];
  STATE_COLORS.forEach(([state, color]) => {
    const count = counts.get(state) ?? 0;
    if (count) {
      const segment = element('div', `autotune-lab-progress-${stateLabel(state)}`);
      segment.style.width = `${(100 * count) / study.total}%`;
      segment.style.background = color;
      segment.title = `${stateLabel(state)} ${count}`;
      bar.append(segment);
    }
    if (count || state === 'SUCCEEDED' || state === 'FAILED') {
      words.push(`${stateLabel(state)} ${count}`);
    }
  });
  const finished = PLOTTED_STATES.reduce((sum, state) => sum + (counts.get(state) ?? 0), 0);
  view.append(
    bar,
    element('span', 'autotune-lab-counts-text', `${finished} / ${study.total} trials finished: ${words.join(' · ')}`)
  );
  return view;
}

function paramsTable(params: JsonObject): HTMLTableElement {
  const table = element('table', 'autotune-lab-best-params');
  Object.keys(params).forEach(name => {
    const row = table.insertRow();
    row.append(element('th', undefined, name), element('td', undefined, formatValue(params[name])));
  });
  return table;
}

function bestView(study: StudyView, best: TrialView | undefined): HTMLElement {
  const view = element('div', 'autotune-lab-best');
  if (!best) {
    view.append(element('span', undefined, 'Best: none yet (no trial succeeded with a result)'));
    return view;
  }
  view.append(
    element('span', undefined, `Best (${study.direction}): `),
    element('b', 'autotune-lab-best-value', formatValue(best.value)),
    element('span', undefined, ` (trial ${best.number})`),
    paramsTable(best.params)
  );
  return view;
}

function topTable(study: StudyView, rows: TrialView[]): HTMLTableElement {
  const table = element('table', 'autotune-lab-table');
  const head = table.createTHead().insertRow();
  const lineage = rows.some(trial => trial.lineage); // a column only for a schedule's trials, as views/static.py
  ['#', 'result', ...study.paramNames, 'state', 'duration', 'GPU', ...(lineage ? ['lineage'] : [])].forEach(name =>
    head.append(element('th', undefined, name))
  );
  const body = table.createTBody();
  rows.forEach(trial => {
    const row = body.insertRow();
    const cells = [
      String(trial.number),
      formatValue(trial.value),
      ...study.paramNames.map(name => (name in trial.params ? formatValue(trial.params[name]) : '')),
      stateLabel(trial.state),
      formatDuration(trial.duration),
      trial.gpu ?? '',
      ...(lineage ? [trial.lineage] : [])
    ];
    cells.forEach(text => row.append(element('td', undefined, text)));
  });
  return table;
}

/** The interval a chart axis shows: the data's, padded by 5% (or around a single value). */
function domain(values: number[]): [number, number] {
  if (!values.length) {
    return [0, 1];
  }
  const low = Math.min(...values);
  const high = Math.max(...values);
  if (low === high) {
    const pad = Math.abs(low) * 0.05 || 1;
    return [low - pad, high + pad];
  }
  const pad = (high - low) * 0.05;
  return [low - pad, high + pad];
}

/** The best-so-far line as the corners of a step-after line over the succeeded trials. */
function bestSoFar(points: Array<[number, number]>, direction: StudyView['direction']): Array<[number, number]> {
  const corners: Array<[number, number]> = [];
  let best: number | null = null;
  points.forEach(([x, y], index) => {
    const improves = best === null || better(direction, y, best);
    if (best !== null && (improves || index === points.length - 1)) {
      corners.push([x, best]);
    }
    if (improves) {
      best = y;
      corners.push([x, y]);
    }
  });
  return corners;
}

function chartView(study: StudyView): SVGElement {
  const plotted = study.trials
    .filter(t => PLOTTED_STATES.includes(t.state))
    .map(t => ({ trial: t, y: plottedValue(t) }))
    .filter((p): p is { trial: TrialView; y: number } => p.y !== null);
  const [x0, x1] = domain(plotted.map(p => p.trial.number));
  const [y0, y1] = domain(plotted.map(p => p.y));
  const plotW = SVG_WIDTH - MARGIN.left - MARGIN.right;
  const plotH = SVG_HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (x: number) => MARGIN.left + ((x - x0) / (x1 - x0)) * plotW;
  const py = (y: number) => MARGIN.top + ((y1 - y) / (y1 - y0)) * plotH;

  const svg = svgElement('svg', {
    class: 'autotune-lab-chart',
    width: SVG_WIDTH,
    height: SVG_HEIGHT,
    viewBox: `0 0 ${SVG_WIDTH} ${SVG_HEIGHT}`,
    role: 'img'
  });
  const title = svgElement('title', {});
  title.textContent = `${study.name}: result per trial`;
  svg.append(title, svgElement('rect', { class: 'autotune-lab-frame', x: MARGIN.left, y: MARGIN.top, width: plotW, height: plotH }));

  plotted.forEach(({ trial, y }) => {
    const point = svgElement('circle', {
      class: `autotune-lab-point autotune-lab-point-${stateLabel(trial.state)}`,
      cx: px(trial.number).toFixed(1),
      cy: py(y).toFixed(1),
      r: 3.5,
      fill: stateColor(trial.state)
    });
    const tip = svgElement('title', {});
    tip.textContent = `trial ${trial.number} (${stateLabel(trial.state)}): ${formatValue(y)}`;
    point.append(tip);
    svg.append(point);
  });

  const succeeded = plotted.filter(p => p.trial.state === 'SUCCEEDED').map(p => [p.trial.number, p.y] as [number, number]);
  if (succeeded.length) {
    const corners = bestSoFar(succeeded, study.direction);
    svg.append(
      svgElement('polyline', {
        class: 'autotune-lab-best-line',
        points: corners.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' '),
        fill: 'none'
      })
    );
  }
  if (plotted.length) {
    axisLabels(svg, plotted.map(p => p.trial.number), plotted.map(p => p.y), px, py);
  }
  return svg;
}

/** The lowest and highest result and trial number, written where they sit on the axes. */
function axisLabels(
  svg: SVGElement,
  xs: number[],
  ys: number[],
  px: (x: number) => number,
  py: (y: number) => number
): void {
  const bottom = SVG_HEIGHT - MARGIN.bottom;
  const label = (x: number, y: number, anchor: string, text: string) => {
    const node = svgElement('text', { class: 'autotune-lab-axis', x: x.toFixed(1), y: y.toFixed(1), 'text-anchor': anchor });
    node.textContent = text;
    svg.append(node);
  };
  label((MARGIN.left + SVG_WIDTH) / 2, bottom + 24, 'middle', 'trial');
  new Set([Math.min(...ys), Math.max(...ys)]).forEach(y => label(MARGIN.left - 4, py(y) + 4, 'end', formatValue(y)));
  new Set([Math.min(...xs), Math.max(...xs)]).forEach(x => label(px(x), bottom + 12, 'middle', String(x)));
}

function legendView(): HTMLElement {
  const legend = element('div', 'autotune-lab-legend');
  PLOTTED_STATES.forEach(state => {
    const swatch = element('span', 'autotune-lab-swatch', '●');
    swatch.style.color = stateColor(state);
    legend.append(swatch, element('span', undefined, stateLabel(state)));
  });
  legend.append(element('span', 'autotune-lab-swatch autotune-lab-best-swatch', '—'), element('span', undefined, 'best so far'));
  return legend;
}

/** The whole view of a study document, or the message saying why it cannot be shown. */
export function renderStudy(data: unknown): HTMLElement {
  const study = readDocument(data);
  if (typeof study === 'string') {
    return element('div', 'autotune-lab-error', study);
  }
  const view = element('div', 'autotune-lab-study');
  const ranked = rankedTrials(study);
  const top = ranked.slice(0, TOP_N);
  view.append(headerView(study), countsView(study));
  if (study.note) {
    view.append(element('p', 'autotune-lab-note', study.note));
  }
  view.append(bestView(study, ranked[0]), chartView(study), legendView());
  if (top.length) {
    view.append(element('h4', undefined, `Top ${top.length} trials`), topTable(study, top));
  } else {
    view.append(element('p', 'autotune-lab-empty', 'No trial succeeded.'));
  }
  return view;
}

// --- the JupyterLab plumbing ------------------------------------------------------------------

export class StudyRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(options: IRenderMime.IRendererOptions) {
    super();
    this._mimeType = options.mimeType;
    this.addClass('autotune-lab-output');
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this.node.replaceChildren(renderStudy(model.data[this._mimeType]));
    return Promise.resolve();
  }

  private _mimeType: string;
}

export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [MIME_TYPE],
  defaultRank: RANK,
  createRenderer: options => new StudyRenderer(options)
};

const extension: IRenderMime.IExtension = {
  id: 'autotune-nb-labextension:study',
  rendererFactory,
  rank: RANK,
  dataType: 'json'
};

export default extension;
