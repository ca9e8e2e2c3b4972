/**
 * Asking the notebook's kernel what the `%%autotune` magic makes of a line. The rules live in
 * Python only (`autotune_nb/notebook/tune_form.py` answers, with the magic's parser and checks), so the
 * form shows the magic's own words and never re-implements them here.
 *
 * The request is a silent execution with one user expression: nothing enters the history, the
 * execution count or the notebook's variables; the answer comes back as `application/json`.
 */

import { Kernel } from '@jupyterlab/services';

/** The form's options by the names of the magic's parser (`magic_line.FORM_OPTIONS`). */
export type Fields = { [option: string]: string };

/** One registered tuner or assessor: the classArgs it takes (default as Python writes it, null if
 * required), or why its class did not import. */
export interface PluginInfo {
  classArgs?: Array<{ name: string; default: string | null }>;
  error?: string;
}

export interface Description {
  fields: Fields;
  tuners: { [name: string]: PluginInfo };
  assessors: { [name: string]: PluginInfo };
}

export interface Verdict {
  ok: boolean;
  line: string;
  message: string | null;
}

const ANSWER = "__import__('autotune_nb.notebook.tune_form', fromlist=['answer']).answer";

/** The kernel's answer to `request`; an Error in words when the kernel cannot give one. */
export async function askKernel(
  kernel: Kernel.IKernelConnection | null | undefined,
  request: { action: 'describe'; line: string } | { action: 'write'; line: string; cell: string; fields: Fields }
): Promise<unknown> {
  if (!kernel) {
    throw new Error('This notebook has no running kernel: start one (Kernel ▸ Restart Kernel) to tune a cell.');
  }
  // A JSON string is also a Python string literal: the request travels as one.
  const expression = `${ANSWER}(${JSON.stringify(JSON.stringify(request))})`;
  const future = kernel.requestExecute({
    code: '',
    silent: true,
    store_history: false,
    user_expressions: { answer: expression }
  });
  const reply = await future.done;
  if (reply.content.status !== 'ok') {
    throw new Error(`The kernel did not answer (${reply.content.status}).`);
  }
  const result = reply.content.user_expressions['answer'] as
    | { status: string; data?: { [mime: string]: unknown }; ename?: string; evalue?: string }
    | undefined;
  if (!result || result.status !== 'ok' || !result.data || !('application/json' in result.data)) {
    const why = result?.ename ? `${result.ename}: ${result.evalue}` : 'no answer';
    throw new Error(`The kernel could not check the line (${why}). Is autotune_nb installed in this kernel?`);
  }
  return result.data['application/json'];
}
