import { FleetClient, UsageError } from './client';

/** Where fleetctl reads and writes; tests pass their own. */
export interface Io {
  env: Readonly<Record<string, string | undefined>>;
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  /** @defaultValue globalThis.fetch */
  fetch?: typeof fetch;
  /** Asks a yes/no question on the terminal; absent when stdin is not one (then `--yes` is needed). */
  confirm?: (question: string) => Promise<boolean>;
  /** @defaultValue a timer */
  sleep?: (ms: number) => Promise<void>;
}

/** The api a local `tools/fleet up` runs (apps/api/local.env's `API_PORT`). */
export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

/** Wraps a command's action: the context built from the global options, then the action's own arguments. */
export type Run = (
  action: (ctx: CommandContext, ...args: never[]) => Promise<void>,
) => (...args: unknown[]) => Promise<void>;

/** The options every command takes. */
export interface GlobalOptions {
  api?: string;
  token?: string;
  json?: boolean;
}

/** What a command's action works with. */
export class CommandContext {
  constructor(
    readonly io: Io,
    private readonly options: GlobalOptions,
  ) {}

  get json(): boolean {
    return this.options.json === true;
  }

  /** `--api`, else `FLEET_API_URL`, else the local api. */
  get apiUrl(): string {
    const raw = this.options.api ?? this.io.env.FLEET_API_URL ?? DEFAULT_API_URL;
    const url = URL.parse(raw);
    if (!url || !['http:', 'https:'].includes(url.protocol)) {
      throw new UsageError(`--api / FLEET_API_URL: expected an http(s) URL, got "${raw}"`);
    }
    return raw;
  }

  /** A client with `--token`, else `FLEET_TOKEN`; without either, a usage error naming both. */
  client(): FleetClient {
    const token = (this.options.token ?? this.io.env.FLEET_TOKEN ?? '').trim().replace(/^Bearer\s+/i, '');
    if (!token) {
      throw new UsageError(
        'no token: pass --token or set FLEET_TOKEN (locally: node dist/apps/api/admin.js mint-token <you> --scope fleet:admin)',
      );
    }
    return new FleetClient({ baseUrl: this.apiUrl, token, fetch: this.io.fetch });
  }

  /** The API's JSON with `--json`, else the human rendering. */
  print(body: unknown, human: () => string): void {
    this.io.stdout.write(this.json ? `${JSON.stringify(body, null, 2)}\n` : human());
  }

  sleep(ms: number): Promise<void> {
    return this.io.sleep ? this.io.sleep(ms) : new Promise((resolve) => setTimeout(resolve, ms));
  }
}
