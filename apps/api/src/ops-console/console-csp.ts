import { createHash } from 'node:crypto';

/**
 * The page's Content-Security-Policy: its scripts and styles only from the api itself, its calls
 * only to the api, no framing. The bearer token sits in the page's sessionStorage, so nothing
 * injected (a dead letter's payload is shown verbatim) may run. The one inline script, the import
 * map, is allowed by its hash.
 */
export function contentSecurityPolicy(indexHtml: string): string {
  const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(indexHtml);
  if (!importMap) throw new Error('the ops console index.html has no import map');
  const hash = createHash('sha256').update(importMap[1]!).digest('base64');
  return [
    "default-src 'none'",
    `script-src 'self' 'sha256-${hash}'`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
