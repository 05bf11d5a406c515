/**
 * Just enough PromQL reading to cross-check dashboards and rules against what the apps export:
 * the metric names an expression selects and the label names it groups or matches by. Not a
 * parser — the queries are ours, and Prometheus itself (the live test) rejects a malformed one.
 */

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/** Label lists of `by (…)`, `without (…)`, `on (…)`, `ignoring (…)`. */
const GROUPING = /\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g;

export interface ExprParts {
  metrics: string[];
  labels: string[];
}

export function partsOf(expr: string): ExprParts {
  const labels = new Set<string>();
  let rest = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const match of rest.matchAll(GROUPING)) {
    for (const label of match[1]!.split(',')) if (label.trim()) labels.add(label.trim());
  }
  rest = rest.replace(GROUPING, ' ');
  rest = rest.replace(/\{([^}]*)\}/g, (_, inner: string) => {
    for (const m of inner.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) labels.add(m[1]!);
    return ' ';
  });
  rest = rest.replace(/\[[^\]]*\]/g, ' ');
  const metrics = new Set<string>();
  for (const m of rest.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const [, name, call] = m;
    if (call || KEYWORDS.has(name!.toLowerCase())) continue;
    metrics.add(name!);
  }
  return { metrics: [...metrics].sort(), labels: [...labels].sort() };
}

/** A histogram's or summary's series names point back to the family the app exports. */
export function familyOf(metric: string): string {
  return metric.replace(/_(bucket|count|sum)$/, '');
}
