/**
 * The "Tune this cell" form: the options of a cell's `%%autotune` line (tuner and its classArgs,
 * trials, concurrency or GPUs, assessor and its classArgs, direction, name), prefilled from the line
 * the cell has, and written back only when the kernel says the magic accepts the new line; otherwise
 * the magic's message is shown and the cell is left as it was.
 *
 * The form is a modal dialog built with DOM APIs (user strings are text, never HTML); Escape or
 * Cancel closes it, Enter submits it.
 */

import { Description, Fields, PluginInfo, Verdict, askKernel } from './kernelAnswer';
import { Kernel } from '@jupyterlab/services';
import { element } from './dom';

const MAGIC = '%%autotune';

/** Where the form reads and writes the cell's text. */
export interface CellText {
  read(): string;
  write(text: string): void;
}

/** The cell's `%%autotune` line ("" when it has none) and the body below it. */
export function splitCell(source: string): { line: string; body: string } {
  const newline = source.indexOf('\n');
  const first = newline < 0 ? source : source.slice(0, newline);
  if (first.trim() === MAGIC || first.trim().startsWith(`${MAGIC} `)) {
    return { line: first.trim(), body: newline < 0 ? '' : source.slice(newline + 1) };
  }
  return { line: '', body: source };
}

interface FieldSpec {
  option: string;
  label: string;
  kind: 'text' | 'tuner' | 'assessor' | 'direction';
  placeholder?: string;
}

const FIELDS: FieldSpec[] = [
  { option: 'tuner', label: 'Tuner', kind: 'tuner' },
  { option: 'tuner_args', label: 'Tuner classArgs', kind: 'text', placeholder: 'a dict variable, or JSON without spaces: {"gamma":0.25}' },
  { option: 'trials', label: 'Trials', kind: 'text', placeholder: '30' },
  { option: 'concurrency', label: 'Concurrency', kind: 'text', placeholder: '1, or one per GPU' },
  { option: 'gpus', label: 'GPUs', kind: 'text', placeholder: 'none; e.g. 0,1' },
  { option: 'assessor', label: 'Assessor', kind: 'assessor' },
  { option: 'assessor_args', label: 'Assessor classArgs', kind: 'text', placeholder: 'a dict variable, or JSON without spaces: {"start_step":5}' },
  { option: 'direction', label: 'Direction', kind: 'direction' },
  { option: 'name', label: 'Study name', kind: 'text', placeholder: 'a fresh unique name' }
];


function option(value: string, text: string): HTMLOptionElement {
  const node = element('option', undefined, text);
  node.value = value;
  return node;
}

/** A tuner's or assessor's classArgs in one line, for the hint under its classArgs field. */
export function classArgsHint(info: PluginInfo | undefined): string {
  if (!info) {
    return '';
  }
  if (info.error) {
    return info.error;
  }
  const args = info.classArgs ?? [];
  if (!args.length) {
    return 'takes no classArgs';
  }
  return 'classArgs: ' + args.map(arg => (arg.default === null ? `${arg.name} (required)` : `${arg.name}=${arg.default}`)).join(', ');
}

/** Open the form over the page for one cell; resolves when it closes. */
export function openTuneForm(cell: CellText, kernel: Kernel.IKernelConnection | null | undefined): Promise<void> {
  return new TuneForm(cell, kernel).open();
}

class TuneForm {
  constructor(private cell: CellText, private kernel: Kernel.IKernelConnection | null | undefined) {
    this.backdrop = element('div', 'autotune-form-backdrop');
    this.form = element('form', 'autotune-tune-form');
    this.form.setAttribute('role', 'dialog');
    this.form.setAttribute('aria-modal', 'true');
    this.form.setAttribute('aria-labelledby', 'autotune-tune-form-title');
    this.status = element('p', 'autotune-form-status', 'Asking the kernel for the tuners and assessors…');
    this.status.setAttribute('aria-live', 'polite');
    this.error = element('div', 'autotune-form-error');
    this.error.setAttribute('role', 'alert');
    this.submit = element('button', 'jp-mod-styled jp-mod-accept autotune-form-submit', 'Write %%autotune line');
    this.submit.type = 'submit';
    this.submit.disabled = true;
    this.build();
    this.backdrop.append(this.form);
  }

  open(): Promise<void> {
    document.body.append(this.backdrop);
    (this.inputs.get('tuner') as HTMLElement).focus();
    void this.prefill();
    return new Promise(resolve => (this.closed = resolve));
  }

  private build(): void {
    const title = element('h2', 'autotune-form-title', 'Tune this cell');
    title.id = 'autotune-tune-form-title';
    const grid = element('div', 'autotune-form-fields');
    FIELDS.forEach(spec => {
      const id = `autotune-form-${spec.option.replace(/_/g, '-')}`;
      const label = element('label', undefined, spec.label);
      label.htmlFor = id;
      const input = spec.kind === 'text' ? element('input') : element('select');
      input.id = id;
      input.name = spec.option;
      input.className = 'jp-mod-styled';
      if (input instanceof HTMLInputElement) {
        input.type = 'text';
        input.placeholder = spec.placeholder ?? '';
        input.spellcheck = false;
      } else if (spec.kind === 'direction') {
        input.append(option('', '(default: maximize)'), option('maximize', 'maximize'), option('minimize', 'minimize'));
      }
      this.inputs.set(spec.option, input);
      grid.append(label, input);
      if (spec.option === 'tuner_args' || spec.option === 'assessor_args') {
        const hint = element('div', `autotune-form-hint autotune-form-hint-${spec.option.replace(/_/g, '-')}`);
        this.hints.set(spec.option, hint);
        grid.append(element('span'), hint);
      }
    });
    const cancel = element('button', 'jp-mod-styled jp-mod-reject autotune-form-cancel', 'Cancel');
    cancel.type = 'button';
    cancel.addEventListener('click', () => this.close());
    const buttons = element('div', 'autotune-form-buttons');
    buttons.append(cancel, this.submit);
    this.form.append(title, this.status, grid, this.error, buttons);
    this.form.addEventListener('submit', event => {
      event.preventDefault();
      void this.write();
    });
    this.form.addEventListener('keydown', event => {
      if (event.key === 'Escape') {
        event.preventDefault();
        this.close();
      }
    });
    this.inputs.get('tuner')!.addEventListener('change', () => this.showHints());
    this.inputs.get('assessor')!.addEventListener('change', () => this.showHints());
  }

  /** The registries and the cell's current options, from the kernel. */
  private async prefill(): Promise<void> {
    const { line } = splitCell(this.cell.read());
    try {
      this.description = (await askKernel(this.kernel, { action: 'describe', line })) as Description;
    } catch (reason) {
      this.status.textContent = '';
      this.error.textContent = (reason as Error).message;
      return;
    }
    const { fields, tuners, assessors } = this.description;
    this.fillSelect('tuner', Object.keys(tuners), '(default: TPE)', fields.tuner);
    this.fillSelect('assessor', Object.keys(assessors), '(none)', fields.assessor);
    FIELDS.forEach(spec => {
      if (spec.kind === 'text' || spec.kind === 'direction') {
        (this.inputs.get(spec.option) as HTMLInputElement | HTMLSelectElement).value = fields[spec.option] ?? '';
      }
    });
    this.showHints();
    this.status.textContent = line ? `Editing: ${line}` : 'This cell has no %%autotune line yet: the form adds one.';
    this.submit.disabled = false;
  }

  /** A select's options: "" (the magic's default), the registered names, and the line's own value
   * when it is none of them (an NNI alias, a $variable), so that prefilling never loses it. */
  private fillSelect(optionName: string, names: string[], empty: string, current: string): void {
    const select = this.inputs.get(optionName) as HTMLSelectElement;
    select.replaceChildren(option('', empty), ...names.map(name => option(name, name)));
    if (current && !names.includes(current)) {
      select.append(option(current, current));
    }
    select.value = current;
  }

  private showHints(): void {
    if (!this.description) {
      return;
    }
    const tuner = this.inputs.get('tuner')!.value || 'TPE';
    const assessor = this.inputs.get('assessor')!.value;
    this.hints.get('tuner_args')!.textContent = classArgsHint(this.description.tuners[tuner]);
    this.hints.get('assessor_args')!.textContent = assessor
      ? classArgsHint(this.description.assessors[assessor])
      : 'no assessor: trials are never stopped early';
  }

  /** Ask the kernel for the new line's verdict; write it, or show the magic's message. */
  private async write(): Promise<void> {
    const fields: Fields = {};
    this.inputs.forEach((input, name) => (fields[name] = input.value));
    const { line, body } = splitCell(this.cell.read());
    this.submit.disabled = true;
    this.error.textContent = '';
    this.status.textContent = 'Checking the line with the kernel…';
    let verdict: Verdict;
    try {
      verdict = (await askKernel(this.kernel, { action: 'write', line, cell: body, fields })) as Verdict;
    } catch (reason) {
      this.error.textContent = (reason as Error).message;
      this.status.textContent = '';
      this.submit.disabled = false;
      return;
    }
    if (verdict.ok) {
      this.cell.write(`${verdict.line}\n${body}`);
      this.close();
      return;
    }
    this.status.textContent = `The magic refuses: ${verdict.line}`;
    this.error.textContent = verdict.message ?? 'refused';
    this.submit.disabled = false;
  }

  private close(): void {
    this.backdrop.remove();
    this.closed();
  }

  private backdrop: HTMLDivElement;
  private form: HTMLFormElement;
  private status: HTMLParagraphElement;
  private error: HTMLDivElement;
  private submit: HTMLButtonElement;
  private inputs = new Map<string, HTMLInputElement | HTMLSelectElement>();
  private hints = new Map<string, HTMLDivElement>();
  private description: Description | null = null;
  private closed: () => void = () => undefined;
}
