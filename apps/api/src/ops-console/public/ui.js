// Shared pieces of the views: htm bound to Preact, hooks, a data loader and small formatting helpers.
import { h } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import htm from 'htm';
import { describeFailure } from './api.js';

export const html = htm.bind(h);

/**
 * Runs `load` when `deps` change (and every `refreshMs` when given); keeps the last good data while
 * a reload runs, so tables do not flicker.
 * @returns {{ data: any, error: any, loading: boolean, reload: () => Promise<void> }}
 */
export function useLoad(load, deps, refreshMs) {
  const [state, setState] = useState({ data: undefined, error: undefined, loading: true });
  const reload = useCallback(async () => {
    setState((s) => ({ ...s, loading: true }));
    try {
      const data = await load();
      setState({ data, error: undefined, loading: false });
    } catch (error) {
      setState((s) => ({ ...s, error, loading: false }));
    }
  }, deps);
  useEffect(() => {
    void reload();
    if (!refreshMs) return undefined;
    const timer = setInterval(() => void reload(), refreshMs);
    return () => clearInterval(timer);
  }, [reload, refreshMs]);
  return { ...state, reload };
}

/** A failed call, as an operator reads it. */
export function ErrorNote({ error, testid = 'error' }) {
  if (!error) return null;
  const text = error.status !== undefined ? describeFailure(error) : String(error.message ?? error);
  return html`<p class="error" role="alert" data-testid=${testid}>${text}</p>`;
}

/** `2026-12-07T15:42:25.123Z` as local date and time to the second. */
export function when(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { hour12: false });
}

/** A status as a coloured badge (`DEAD`, `REDRIVEN`, `open` …). */
export function Badge({ value, testid }) {
  const tone = String(value)
    .toLowerCase()
    .replace(/[^a-z-]/g, '');
  return html`<span class=${`badge badge-${tone}`} data-testid=${testid}>${value}</span>`;
}

/** Pretty JSON of any value, or the raw text when there is no JSON. */
export function Json({ value, testid }) {
  return html`<pre class="json" data-testid=${testid}>
${value === undefined ? '—' : JSON.stringify(value, null, 2)}</pre>`;
}

/** Navigates inside the console (hash routes keep every view linkable). */
export function go(path, query = {}) {
  const params = new URLSearchParams(
    Object.entries(query).filter(([, value]) => value !== undefined && value !== null && value !== ''),
  );
  const search = params.toString();
  location.hash = `#${path}${search ? `?${search}` : ''}`;
}

/** `<input type="datetime-local">` value ↔ ISO. */
export const toLocalInput = (iso) => {
  if (!iso) return '';
  const date = new Date(iso);
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
};
export const fromLocalInput = (value) => (value ? new Date(value).toISOString() : undefined);
