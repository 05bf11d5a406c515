// The console's only way to the api: JSON over fetch with the pasted bearer token. The token lives
// in sessionStorage (gone when the tab closes, never sent anywhere but this origin's /v1/admin).

const TOKEN_KEY = 'fleet-ops-token';

export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  signIn: (token) => sessionStorage.setItem(TOKEN_KEY, token),
  signOut: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** An answer that was not 2xx: the api's `{ error: { code, message } }`, with the status. */
export class ApiFailure extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** Listeners told when the api refuses the token (401), so the console can ask for another. */
const onUnauthorized = new Set();
export const whenUnauthorized = (listener) => {
  onUnauthorized.add(listener);
  return () => onUnauthorized.delete(listener);
};

/**
 * `GET`/`POST` a path of the api. Query values that are empty or undefined are left out.
 * @param {string} path e.g. `/v1/admin/dlq`
 * @param {{ method?: string, query?: Record<string, unknown>, body?: unknown, token?: string }} [options]
 */
export async function api(path, { method = 'GET', query, body, token = session.token() } = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, String(value));
  }
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiFailure(0, 'NETWORK', `the api did not answer: ${error.message}`);
  }
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiFailure(response.status, 'NOT_JSON', `HTTP ${response.status} without a JSON body`);
  }
  if (!response.ok) {
    const error = parsed?.error ?? { code: `HTTP_${response.status}`, message: response.statusText };
    const failure = new ApiFailure(response.status, error.code, error.message, error.details);
    if (response.status === 401) for (const listener of onUnauthorized) listener(failure);
    throw failure;
  }
  return parsed;
}

/** What a refused call means for an operator, in one line. */
export function describeFailure(failure) {
  if (failure.status === 401)
    return `Not signed in: the token was refused (${failure.details?.reason ?? failure.code}).`;
  if (failure.status === 403) return `Forbidden: this token lacks the fleet:admin scope. ${failure.message}`;
  if (failure.status === 0) return failure.message;
  return `${failure.code} (HTTP ${failure.status}): ${failure.message}`;
}

/** The token's claims, decoded without verifying (only to show who is signed in). */
export function claimsOf(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(payload));
  } catch {
    return {};
  }
}
