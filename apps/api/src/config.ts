import { baseServiceEnv, envDurationMs, envInt, envList, envPort, envUrl } from '@fleet/config';
import { jobPlatformEnv } from '@fleet/jobs';
import { objectStoreEnv } from '@fleet/object-store';
import { kafkaProducerEnv } from '@fleet/service-kit';
import { MIN_CHUNK_BYTES } from '@fleet/uploads';
import { z } from 'zod';
import { parseAllowlist } from '@fleet/webhooks';
import { opsEnv } from './ops/ops.config';

/** JWT algorithms the api can verify; `none` is never one of them. */
export const JWT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'ES256',
  'ES384',
  'EdDSA',
  'HS256',
] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

const jwtAlgorithms = envList().transform((items, ctx) => {
  const bad = items.filter((item) => !(JWT_ALGORITHMS as readonly string[]).includes(item));
  if (bad.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `unsupported ${bad.join(', ')}; expected ${JWT_ALGORITHMS.join(', ')}`,
    });
    return z.NEVER;
  }
  return items as JwtAlgorithm[];
});

const optionalSecret = z.string().min(8, 'expected at least 8 characters').optional();

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** A media type without parameters, as clients declare it (`image/png`). */
export const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/**
 * What an upload may declare unless `UPLOAD_ALLOWED_TYPES` says otherwise: documents, archives,
 * images, video, audio and plain text. `application/octet-stream` is left out on purpose: it
 * declares nothing, so the content check (magic bytes of chunk 0) could not hold it to anything.
 */
export const DEFAULT_UPLOAD_TYPES = [
  'application/pdf',
  'application/zip',
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'video/mp4',
  'audio/mpeg',
  'text/plain',
  'text/markdown',
  'text/csv',
] as const;

const mediaTypes = envList().transform((items, ctx) => {
  const types = items.map((item) => item.toLowerCase());
  const bad = types.filter((type) => !MEDIA_TYPE.test(type));
  if (bad.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `not a media type: ${bad.join(', ')} (expected e.g. image/png)`,
    });
    return z.NEVER;
  }
  return [...new Set(types)];
});

/**
 * Env of the api, checked once at boot (exit 1 naming each bad variable). The README's table lists
 * every variable with its default and meaning.
 */
export const configSchema = baseServiceEnv
  .extend(kafkaProducerEnv.shape)
  .extend({
    HEALTH_PORT: envPort().default(9473),
    API_PORT: envPort().default(8080),
    API_HOST: z.string().default('127.0.0.1'),
    DATABASE_URL: envUrl({ protocols: ['postgres', 'postgresql'] }),
    DATABASE_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lowercase schema name')
      .default('public'),
    DATABASE_POOL_SIZE: envInt({ min: 1, max: 100 }).default(10),
    REDIS_URL: envUrl({ protocols: ['redis', 'rediss'] }),

    AUTH_JWT_ALGORITHMS: jwtAlgorithms.default(['RS256', 'ES256']),
    AUTH_JWT_ISSUER: z.string().min(1),
    AUTH_JWT_AUDIENCE: z.string().min(1),
    /** A PEM public key (SPKI or an X.509 certificate), inline; `\n` escapes are accepted. */
    AUTH_JWT_PUBLIC_KEY: z.string().optional(),
    AUTH_JWT_PUBLIC_KEY_FILE: z.string().optional(),
    AUTH_JWKS_FILE: z.string().optional(),
    /** HS256 only: at least 32 bytes. */
    AUTH_JWT_SECRET: z.string().min(32, 'expected at least 32 characters').optional(),
    AUTH_CLOCK_TOLERANCE_S: envInt({ min: 0, max: 300 }).default(30),
    /** Verified tokens remembered until they expire (0: verify every request). */
    AUTH_TOKEN_CACHE_SIZE: envInt({ min: 0, max: 1_000_000 }).default(10_000),
    /** Local only: generate (if missing) and trust a dev key pair in this folder. */
    AUTH_DEV_KEY_DIR: z.string().optional(),

    RATE_LIMIT_MAX: envInt({ min: 1 }).default(120),
    RATE_LIMIT_WINDOW_MS: envDurationMs().default(60_000),
    /**
     * Chunk PUTs per window and user, counted apart from `RATE_LIMIT_MAX`: a 1 GiB file is 128
     * chunks of 8 MiB, which the general budget would throttle to a trickle.
     */
    UPLOAD_CHUNK_RATE_LIMIT_MAX: envInt({ min: 1 }).default(1200),

    CHAT_STATUS_GROUP: z.string().min(1).default('api-status'),
    /** 0 disables the status consumer (a replica that only serves HTTP). */
    CHAT_STATUS_CONSUMER: envInt({ min: 0, max: 1 }).default(1),

    WHATSAPP_APP_SECRET: optionalSecret,
    WHATSAPP_VERIFY_TOKEN: optionalSecret,
    INSTAGRAM_APP_SECRET: optionalSecret,
    INSTAGRAM_VERIFY_TOKEN: optionalSecret,

    WS_MAX_CONNECTIONS: envInt({ min: 1 }).default(10_000),

    /** Largest file an upload may declare, in bytes. */
    UPLOAD_MAX_BYTES: envInt({ min: 1 }).default(5 * GiB),
    /** Preferred chunk size in bytes; S3 compose needs every part but the last to be at least 5 MiB. */
    UPLOAD_CHUNK_BYTES: envInt({ min: MIN_CHUNK_BYTES, max: 5 * GiB }).default(8 * MiB),
    /** Media types an upload may declare (comma-separated, without parameters). */
    UPLOAD_ALLOWED_TYPES: mediaTypes.default([...DEFAULT_UPLOAD_TYPES]),
    /** Lifetime of a presigned download URL (S3 allows at most 7 days). */
    UPLOAD_DOWNLOAD_URL_TTL_SECONDS: envInt({ min: 1, max: 7 * 24 * 3600 }).default(300),

    /** Largest story `content`, in UTF-8 bytes (beyond: 413). */
    STORY_CONTENT_MAX_BYTES: envInt({ min: 1, max: 16 * MiB }).default(64 * 1024),
    /** Largest document of a map job (`POST /v1/maps`), in bytes (beyond: 413). */
    MAP_DOCUMENT_MAX_BYTES: envInt({ min: 1, max: 16 * MiB }).default(256 * 1024),
    /** Lifetime of the presigned URLs of a finished job's artifacts (S3 allows at most 7 days). */
    JOB_ARTIFACT_URL_TTL_SECONDS: envInt({ min: 1, max: 7 * 24 * 3600 }).default(300),
    /** Largest `manifest` object of `POST /v1/exports`, in bytes of its JSON (beyond: 400 naming it). */
    EXPORT_MANIFEST_MAX_BYTES: envInt({ min: 2, max: 1 * MiB }).default(16 * 1024),
    /**
     * Callback targets the SSRF rule would refuse but that are allowed: host names or CIDRs,
     * comma-separated (the exporter's `EXPORT_CALLBACK_ALLOWLIST`: keep them equal). Empty: none.
     */
    EXPORT_CALLBACK_ALLOWLIST: z
      .string()
      .default('')
      .superRefine((raw, ctx) => {
        try {
          parseAllowlist(raw);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
        }
      }),
    /**
     * The Prometheus that scrapes the fleet, for the ops console's charts (`GET /v1/admin/charts/:name`
     * queries its `/api/v1/query_range`). Unset: those routes answer 503 saying so.
     */
    PROMETHEUS_URL: envUrl({ protocols: ['http', 'https'] }).optional(),
    /**
     * Prefix of the job event channels and streams in Redis: must be the generation worker's (both
     * default to `@fleet/jobs`' `jobs:`); tests use a fresh one.
     */
    JOB_EVENTS_KEY_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'expected 1–100 of A-Z a-z 0-9 _ . : -')
      .default('jobs:'),
  })
  .extend(jobPlatformEnv.shape)
  .extend(objectStoreEnv.shape)
  .extend(opsEnv.shape)
  .superRefine((config, ctx) => {
    const sources = (
      ['AUTH_JWT_PUBLIC_KEY', 'AUTH_JWT_PUBLIC_KEY_FILE', 'AUTH_JWKS_FILE', 'AUTH_DEV_KEY_DIR'] as const
    ).filter((name) => config[name] !== undefined);
    const hs = config.AUTH_JWT_ALGORITHMS.includes('HS256');
    const asymmetric = config.AUTH_JWT_ALGORITHMS.some((alg) => alg !== 'HS256');
    if (asymmetric && sources.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        // No path: the report then prints the message itself, which names the variables.
        path: [],
        message:
          sources.length === 0
            ? 'set one of AUTH_JWT_PUBLIC_KEY, AUTH_JWT_PUBLIC_KEY_FILE, AUTH_JWKS_FILE or AUTH_DEV_KEY_DIR'
            : `set only one key source, got ${sources.join(', ')}`,
      });
    }
    if (hs && config.AUTH_JWT_SECRET === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_JWT_SECRET'],
        message: 'required when AUTH_JWT_ALGORITHMS has HS256',
      });
    }
    if (!hs && config.AUTH_JWT_SECRET !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_JWT_SECRET'],
        message: 'set only together with HS256 in AUTH_JWT_ALGORITHMS',
      });
    }
  });
export type Config = z.output<typeof configSchema>;
