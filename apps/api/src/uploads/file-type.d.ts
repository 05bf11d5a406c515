/**
 * The part of `file-type` (ESM) the api uses. Its own typings are only reachable through the
 * package's `exports`, which TypeScript's `moduleResolution: node10` does not read; Node 24
 * `require`s the module itself fine.
 */
declare module 'file-type' {
  export interface FileTypeResult {
    readonly ext: string;
    readonly mime: string;
  }
  /** Detects the type from the first bytes of a file (magic numbers); undefined when unknown. */
  export function fileTypeFromBuffer(buffer: Uint8Array | ArrayBuffer): Promise<FileTypeResult | undefined>;
  /** Every media type the detector can recognise. */
  export const supportedMimeTypes: ReadonlySet<string>;
  /** Bytes of a file's head enough for a detection (4100). */
  export const reasonableDetectionSizeInBytes: number;
}
