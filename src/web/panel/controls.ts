import { h } from '../shared/dom.ts';
import type { KeyDescription } from './api.ts';
import { throttle } from './throttle.ts';

/**
 * One control per state key, chosen from its schema: a slider for a small numeric range, a number box
 * for a large one, a select for enums and short integer ranges, a switch for booleans, a text box for
 * strings, a button for triggers, plain text for read-only keys. Each carries `data-key`.
 */

export interface Control {
  key: string;
  el: HTMLElement;
  /** Shows the server's value, unless the user is in the middle of changing this control. */
  show(value: unknown): void;
  /** Shows (or, with null, clears) a refusal under the control. */
  fail(message: string | null): void;
}

/** Sends one change; rejects with the server's refusal. */
export type Commit = (key: string, value: unknown) => Promise<void>;

const SLIDER_THROTTLE_MS = 150;

export function createControl(def: KeyDescription, writable: boolean, commit: Commit): Control {
  const error = h('div', { class: 'field-error', role: 'alert', hidden: true });
  const fail = (message: string | null) => {
    error.textContent = message ?? '';
    error.hidden = message === null;
  };
  const input = inputFor(def, writable, commit, fail);
  const label = h('label', { class: 'field', title: def.description }, h('span', { class: 'name' }, def.key), input.el);
  const el = h('div', { class: 'control' }, label, input.extra ?? null, error);
  return { key: def.key, el, show: input.show, fail };
}

interface Input {
  el: HTMLElement;
  extra?: HTMLElement;
  show(value: unknown): void;
}

function inputFor(def: KeyDescription, writable: boolean, commit: Commit, fail: (m: string | null) => void): Input {
  const send = (value: unknown) =>
    commit(def.key, value).then(
      () => fail(null),
      (e: Error & { detail?: string }) => fail(e.detail ? `${e.message}: ${e.detail}` : e.message),
    );
  const attrs = {
    'data-key': def.key,
    disabled: !writable,
    title: writable ? def.description : `${def.description} (you may not change it)`,
  };

  if (def.write === 'device') {
    const el = h('span', { class: 'value', 'data-key': def.key });
    return { el, show: (v) => (el.textContent = format(v)) };
  }
  if (def.type === 'trigger') {
    const el = h('button', { ...attrs, type: 'button', onclick: () => void send(true) }, def.key);
    return { el, show: () => {} };
  }
  if (def.type === 'boolean') {
    const el = h('input', { ...attrs, type: 'checkbox', role: 'switch', onchange: () => void send(el.checked) });
    return { el, show: (v) => (el.checked = v === true) };
  }
  const numeric = def.type === 'integer' || def.type === 'number';
  if (def.type === 'enum' || (def.type === 'integer' && (def.max ?? 0) - (def.min ?? 0) < 10)) {
    const options = def.values ?? range(def.min ?? 0, def.max ?? 0).map(String);
    const el = h('select', { ...attrs, onchange: () => void send(def.type === 'enum' ? el.value : Number(el.value)) });
    el.append(...options.map((o) => h('option', { value: o }, o)));
    return { el, show: (v) => (el.value = String(v)) };
  }
  if (def.type === 'integer' && (def.max ?? 0) - (def.min ?? 0) > 1000) {
    const el = h('input', {
      ...attrs,
      type: 'number',
      min: def.min,
      max: def.max,
      step: 1,
      onchange: () => void send(Number(el.value)),
    });
    return { el, show: unlessFocused(el, (v) => String(v)) };
  }
  if (numeric) return slider(def, attrs, send);
  const el = h('input', { ...attrs, type: 'text', spellcheck: false, onchange: () => void send(el.value) });
  return { el, show: unlessFocused(el, (v) => String(v ?? '')) };
}

/** A box being typed in is not overwritten by an update; it shows the server's value once left. */
function unlessFocused(el: HTMLInputElement, text: (value: unknown) => string): (value: unknown) => void {
  return (value) => {
    if (document.activeElement !== el) el.value = text(value);
  };
}

/** While the user drags, values go out throttled and the server's echoes do not move the thumb. */
function slider(def: KeyDescription, attrs: Record<string, unknown>, send: (v: unknown) => Promise<void>): Input {
  const step = def.type === 'integer' ? 1 : (Number(def.max) - Number(def.min)) / 100;
  const output = h('output', { class: 'value' });
  let dragging = false;
  const throttled = throttle((value: number) => void send(value), SLIDER_THROTTLE_MS);
  const el = h('input', {
    ...(attrs as Record<string, string | boolean>),
    type: 'range',
    min: def.min,
    max: def.max,
    step,
    onpointerdown: () => (dragging = true),
    // A drag can end without a change event (a cancelled touch, focus moving away).
    onpointercancel: () => (dragging = false),
    onblur: () => (dragging = false),
    oninput: () => {
      output.textContent = el.value;
      throttled.call(Number(el.value));
    },
    onchange: () => {
      throttled.flush();
      dragging = false;
    },
  });
  const show = (v: unknown) => {
    if (dragging) return;
    el.value = String(v);
    output.textContent = String(v);
  };
  return { el, extra: output, show };
}

function range(min: number, max: number): number[] {
  return Array.from({ length: max - min + 1 }, (_, i) => min + i);
}

function format(value: unknown): string {
  return value === true ? 'yes' : value === false ? 'no' : value === undefined ? '—' : String(value);
}
