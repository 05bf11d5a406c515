import { fileTypeFromBuffer, supportedMimeTypes } from 'file-type';
import { baseMediaType } from './uploads.schemas';

/**
 * Bytes of chunk 0 kept while it streams, for the content check: what `file-type` needs for a
 * detection (its `reasonableDetectionSizeInBytes`), about 4 KiB.
 */
export const SNIFF_BYTES = 4100;

/** Detections that are the same format under another name. */
const EQUIVALENT: Readonly<Record<string, readonly string[]>> = {
  'video/mp4': ['video/x-m4v'],
  'audio/mp4': ['audio/x-m4a'],
  'audio/x-m4a': ['audio/mp4'],
};

export type ContentVerdict =
  { ok: true; detected: string | undefined } | { ok: false; detected: string | undefined; reason: string };

/** Types without a magic number: their files are judged as text. */
export function isTextType(base: string): boolean {
  return (
    base.startsWith('text/') ||
    base === 'application/json' ||
    base.endsWith('+json') ||
    base === 'application/xml' ||
    base.endsWith('+xml')
  );
}

/**
 * Whether the first bytes of a file match the content type its upload declared.
 *
 * - A text type (text/plain, text/markdown, text/csv, JSON, XML) has no magic number: accepted when
 *   no binary format is recognised (or the very type declared is) and the bytes are UTF-8 without
 *   NUL.
 * - A type the detector knows (PDF, ZIP, PNG, JPEG, GIF, WebP, MP4, MP3 …) must be the detected one.
 * - A type it does not know (an operator's `application/octet-stream`) cannot be held to anything:
 *   accepted.
 *
 * @param head - the first bytes of chunk 0 (up to {@link SNIFF_BYTES})
 * @param truncated - true when the chunk goes on after `head` (a multi-byte UTF-8 character may be cut at its end)
 */
export async function checkContent(
  declaredType: string,
  head: Uint8Array,
  truncated: boolean,
): Promise<ContentVerdict> {
  const declared = baseMediaType(declaredType);
  const detected = await detect(head);
  const matches =
    detected !== undefined && (detected === declared || EQUIVALENT[declared]?.includes(detected));
  if (isTextType(declared)) {
    if (detected !== undefined && !matches) {
      return { ok: false, detected, reason: `declared ${declared} but the bytes are ${detected}` };
    }
    const notText = textProblem(head, truncated);
    if (notText) {
      return {
        ok: false,
        detected,
        reason: `declared ${declared} but the bytes are not UTF-8 text: ${notText}`,
      };
    }
    return { ok: true, detected };
  }
  if (!supportedMimeTypes.has(declared)) return { ok: true, detected };
  if (matches) return { ok: true, detected };
  return {
    ok: false,
    detected,
    reason:
      detected === undefined
        ? `declared ${declared} but the bytes do not start like ${declared} (no known file signature found)`
        : `declared ${declared} but the bytes are ${detected}`,
  };
}

async function detect(head: Uint8Array): Promise<string | undefined> {
  if (head.length === 0) return undefined;
  try {
    return (await fileTypeFromBuffer(head))?.mime;
  } catch {
    // A head too short or malformed for a parser that looked deeper: nothing recognised.
    return undefined;
  }
}

/** Why `head` is not UTF-8 text, or undefined when it is. */
export function textProblem(head: Uint8Array, truncated: boolean): string | undefined {
  const nul = head.indexOf(0);
  if (nul >= 0) return `NUL byte at offset ${nul}`;
  try {
    // `stream: true` leaves an incomplete character at the very end pending instead of failing:
    // the head was cut there, the character goes on in the rest of the chunk.
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: truncated });
    return undefined;
  } catch {
    return 'invalid UTF-8';
  }
}
