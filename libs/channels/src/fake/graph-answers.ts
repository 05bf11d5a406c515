import { randomBytes } from 'node:crypto';
import { CHANNEL_TEXT_LIMITS, type DeliveryChannel } from '@fleet/contracts';

/** A Graph-shaped error answer: status and `{ error: { message, type, code, fbtrace_id } }`. */
export interface GraphErrorAnswer {
  status: number;
  body: {
    error: { message: string; type: string; code: number; error_subcode?: number; fbtrace_id: string };
  };
}

export function fbtraceId(): string {
  return randomBytes(9).toString('base64url');
}

export function graphError(
  status: number,
  code: number,
  message: string,
  subcode?: number,
): GraphErrorAnswer {
  return {
    status,
    body: {
      error: {
        message,
        type: 'OAuthException',
        code,
        ...(subcode === undefined ? {} : { error_subcode: subcode }),
        fbtrace_id: fbtraceId(),
      },
    },
  };
}

/** The body Graph sends for a given failure status, when a script names only the status. */
export function graphErrorForStatus(channel: DeliveryChannel, status: number): GraphErrorAnswer {
  switch (status) {
    case 400:
      return graphError(400, 100, '(#100) Invalid parameter');
    case 401:
      return graphError(401, 190, 'Invalid OAuth access token - Cannot parse access token');
    case 403:
      return graphError(403, 10, '(#10) Application does not have permission for this action');
    case 404:
      return graphError(404, 803, '(#803) Some of the aliases you requested do not exist');
    case 429:
      return channel === 'whatsapp'
        ? graphError(429, 130429, '(#130429) Rate limit hit')
        : graphError(429, 4, '(#4) Application request limit reached');
    case 503:
      return graphError(503, 2, 'Service temporarily unavailable');
    default:
      return status >= 500
        ? graphError(status, 1, 'An unknown error has occurred.')
        : graphError(status, 100, `(#100) Request failed with status ${status}`);
  }
}

/** A WhatsApp message id: `wamid.` and base64, like the real ones. */
export function newWamid(): string {
  return `wamid.${randomBytes(30).toString('base64')}`;
}

/** An Instagram message id. */
export function newInstagramMid(): string {
  return `mid.${randomBytes(24).toString('base64url')}`;
}

/** What the fake read out of a request body, valid or not, for the call record. */
export interface ParsedSend {
  to: string | undefined;
  text: string | undefined;
  messageId: string | undefined;
}

const E164 = /^\+?[1-9]\d{6,14}$/;
const MAX_OPAQUE_CALLBACK_DATA = 512;

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function readWhatsAppSend(body: unknown): ParsedSend {
  const b = record(body);
  return {
    to: str(b?.['to']),
    text: str(record(b?.['text'])?.['body']),
    messageId: str(b?.['biz_opaque_callback_data']),
  };
}

export function readInstagramSend(body: unknown): ParsedSend {
  const b = record(body);
  return {
    to: str(record(b?.['recipient'])?.['id']),
    text: str(record(b?.['message'])?.['text']),
    messageId: undefined,
  };
}

const invalid = (message: string) => graphError(400, 100, message);

/** The Cloud API's checks on a text message body; undefined when it would be accepted. */
export function validateWhatsAppSend(body: unknown): GraphErrorAnswer | undefined {
  const b = record(body);
  if (!b) return invalid('(#100) The request body must be a JSON object');
  if (b['messaging_product'] === undefined)
    return invalid('(#100) The parameter messaging_product is required.');
  if (b['messaging_product'] !== 'whatsapp')
    return invalid("(#100) Param messaging_product must be 'whatsapp'");
  if (b['recipient_type'] !== undefined && b['recipient_type'] !== 'individual') {
    return invalid("(#100) Param recipient_type must be 'individual'");
  }
  const to = str(b['to']);
  if (to === undefined) return invalid('(#100) The parameter to is required.');
  if (!E164.test(to)) return invalid('(#100) Param to must be a phone number in international format');
  const type = b['type'] ?? 'text';
  if (type !== 'text')
    return invalid(`(#100) Param type '${String(type)}' is not supported by the fake channel server`);
  const text = record(b['text']);
  if (!text) return invalid('(#100) The parameter text is required.');
  if (text['preview_url'] !== undefined && typeof text['preview_url'] !== 'boolean') {
    return invalid("(#100) Param text['preview_url'] must be a boolean");
  }
  const textBody = str(text['body']);
  if (textBody === undefined || textBody === '')
    return invalid("(#100) The parameter text['body'] is required.");
  const limit = CHANNEL_TEXT_LIMITS.whatsapp;
  if (textBody.length > limit)
    return invalid(`(#100) Param text['body'] must be at most ${limit} characters long.`);
  const opaque = b['biz_opaque_callback_data'];
  if (opaque !== undefined && (typeof opaque !== 'string' || opaque.length > MAX_OPAQUE_CALLBACK_DATA)) {
    return invalid(
      `(#100) Param biz_opaque_callback_data must be a string of at most ${MAX_OPAQUE_CALLBACK_DATA} characters`,
    );
  }
  return undefined;
}

/** The Instagram Messaging API's checks on a text message body; undefined when accepted. */
export function validateInstagramSend(body: unknown): GraphErrorAnswer | undefined {
  const b = record(body);
  if (!b) return invalid('(#100) The request body must be a JSON object');
  const recipient = record(b['recipient']);
  if (!recipient) return invalid('(#100) The parameter recipient is required');
  const id = str(recipient['id']);
  if (id === undefined || !/^\d{1,32}$/.test(id)) {
    return invalid('(#100) Param recipient[id] must be a valid ID string (e.g., "123")');
  }
  const message = record(b['message']);
  if (!message) return invalid('(#100) The parameter message is required');
  const text = str(message['text']);
  if (text === undefined) return invalid('(#100) The fake channel server supports only message[text]');
  if (text === '') return invalid('(#100) Param message[text] must be non-empty.');
  const limit = CHANNEL_TEXT_LIMITS.instagram;
  if (text.length > limit) {
    return invalid(`(#100) Length of param message[text] must be less than or equal to ${limit}`);
  }
  return undefined;
}
