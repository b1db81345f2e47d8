import { type ConversionConfig, type JsonSchema, toJsonSchemaDefs } from '@valibot/to-json-schema';
import type * as v from 'valibot';
import { VERSION } from '../../version.ts';
import {
  ApplyBody,
  DeviceId,
  LoginBody,
  NewDeviceBody,
  NewPresetBody,
  NewScheduleBody,
  NewUserBody,
  PresetBody,
  ScheduleChangeBody,
  StateChangesBody,
  StateValues,
  UserChangeBody,
  Username,
} from '../schemas.ts';
import { CameraState } from './camera-state.ts';
import { type Guard, OPERATIONS, type Operation, type Reply } from './operations.ts';
import * as replies from './replies.ts';

/**
 * GET /api/openapi.json: the OpenAPI 3.1 document of every HTTP endpoint, made from the operations
 * table and the valibot schemas the routes validate with (@valibot/to-json-schema), never by hand.
 * Built once, on first use.
 */

export interface ApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  tags: { name: string; description: string }[];
  paths: Record<string, Partial<Record<Operation['method'], OperationObject>>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, SecurityScheme> };
}

export interface OperationObject {
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  security?: Record<string, string[]>[];
  /** Who may call it (operations.ts `Guard`): the roles are ours, so OpenAPI has no field for them. */
  'x-guard': Guard;
  parameters?: ParameterObject[];
  requestBody?: { required: true; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, ResponseObject>;
}

export interface ParameterObject {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  description?: string;
  schema: JsonSchema;
}

export interface ResponseObject {
  description: string;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
  content?: Record<string, { schema: JsonSchema }>;
}

interface SecurityScheme {
  type: 'http';
  scheme: 'bearer';
  bearerFormat?: string;
  description: string;
}

const REF = '#/components/schemas/';

/** The schemas the document names, under these names: bodies, shared fields and replies. */
const NAMED: Record<string, v.GenericSchema> = {
  DeviceId,
  Username,
  CameraState,
  LoginBody,
  NewUserBody,
  UserChangeBody,
  NewDeviceBody,
  NewPresetBody,
  PresetBody,
  ApplyBody,
  NewScheduleBody,
  ScheduleChangeBody,
  ...replies,
};

/** Objects of camera-state values: valibot only checks they are objects (`custom`); the keys are CameraState's. */
const STATE_VALUES: ReadonlySet<unknown> = new Set([StateChangesBody, StateValues]);

const conversion: ConversionConfig = {
  // OpenAPI 3.1's schema dialect.
  target: 'draft-2020-12',
  // What a client sends: a query's number is a string of digits, a value before it is normalised.
  typeMode: 'input',
  // A check, a transform or a custom schema has no JSON Schema form; the rest of the schema still says a lot.
  errorMode: 'ignore',
  overrideRef: ({ referenceId }) => REF + referenceId,
  overrideSchema: ({ valibotSchema }) => (STATE_VALUES.has(valibotSchema) ? { $ref: `${REF}CameraState` } : undefined),
};

/**
 * Every schema the document holds, converted in one pass (each conversion converts its definitions
 * too, so one per schema would cost a hundred times as much): the named ones, and the parameters'.
 * A request body or a reply is always a named schema, so it is a reference. A parameter's schema must
 * not also sit inside another one, which would then refer to it by its made-up key (the unit test
 * checks that every reference resolves).
 */
function convertAll() {
  const params = new Map<v.GenericSchema, string>();
  const named = new Map(Object.entries(NAMED).map(([name, schema]) => [schema, name]));
  for (const op of OPERATIONS) {
    for (const schema of [...Object.values(op.params ?? {}), ...Object.values(op.query ?? {})]) {
      if (!named.has(schema) && !params.has(schema)) params.set(schema, `parameter ${params.size}`);
    }
  }
  const converted = toJsonSchemaDefs(
    { ...NAMED, ...Object.fromEntries([...params].map(([schema, key]) => [key, schema])) },
    conversion,
  );
  const schemaOf = (schema: v.GenericSchema): JsonSchema => {
    const name = STATE_VALUES.has(schema) ? 'CameraState' : named.get(schema);
    if (name !== undefined) return { $ref: REF + name };
    const param = converted[params.get(schema) ?? ''];
    if (!param) throw new Error('a body or reply schema the OpenAPI document does not name: add it to NAMED');
    return param;
  };
  const components = Object.fromEntries(Object.keys(NAMED).map((name) => [name, converted[name] as JsonSchema]));
  return { schemaOf, components };
}

const INTRO = [
  'Send `Authorization: Bearer <token>` with the JWT from `POST /api/login`.',
  'Roles rank viewer < operator < admin; a user may be limited to a list of devices, and a device they may not access is answered as one that does not exist (404).',
  "Each operation's `x-guard` says who may call it: `none` (anyone), `user` (any logged-in user), `operator` (operators and admins), `admin`, or `metrics` (`METRICS_TOKEN` or an admin).",
  'Bodies are JSON (`Content-Type: application/json`), at most `MAX_BODY_BYTES` (413 beyond).',
  'Errors are `{"error": "…"}` with a fitting status and, where it helps, a `hint` or the field at fault.',
  "A browser's request from an origin not allowed (`ALLOWED_ORIGINS`) is refused with 403 on every path.",
].join('\n\n');

const TAGS = [
  { name: 'about', description: 'What the server is: health, status, metrics, the state keys and this document.' },
  { name: 'session', description: 'Logging in, and who a token is for.' },
  { name: 'users', description: 'User management (admins).' },
  { name: 'devices', description: 'Devices, their camera state and its history.' },
  { name: 'presets', description: 'Named sets of camera-state values (docs/presets.md).' },
  { name: 'schedules', description: 'Presets or values applied by cron or once at a time (docs/presets.md).' },
  { name: 'sockets', description: 'The WebSocket endpoints, on the same port.' },
];

const SECURITY_SCHEMES: Record<string, SecurityScheme> = {
  user: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A user JWT from POST /api/login.' },
  metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, where it is set.' },
};

const guarded: Record<Guard, { security?: Record<string, string[]>[]; replies: Operation['replies'] }> = {
  none: { replies: {} },
  user: { security: [{ user: [] }], replies: { 401: 'No token, or an invalid or expired one: log in with POST /api/login.' } },
  operator: {
    security: [{ user: [] }],
    replies: { 401: 'No token, or an invalid or expired one: log in with POST /api/login.', 403: 'Needs the operator role.' },
  },
  admin: {
    security: [{ user: [] }],
    replies: { 401: 'No token, or an invalid or expired one: log in with POST /api/login.', 403: 'Needs the admin role.' },
  },
  metrics: {
    security: [{ metricsToken: [] }, { user: [] }],
    replies: { 401: "No token, or neither METRICS_TOKEN nor an admin's JWT." },
  },
};

/** What every operation with a body may answer before it runs. */
const BODY_REPLIES: Operation['replies'] = {
  400: {
    description: 'The body is not JSON, or not what this operation takes: message says where.',
    schema: replies.InvalidRequest,
  },
  413: 'The body is larger than MAX_BODY_BYTES (max_bytes says how large it may be).',
};

type SchemaOf = (schema: v.GenericSchema) => JsonSchema;

function response(schemaOf: SchemaOf, reply: Reply | string): ResponseObject {
  const { description, schema, media, headers } =
    typeof reply === 'string' ? { description: reply, schema: replies.ErrorReply } : reply;
  const content = schema
    ? { 'application/json': { schema: schemaOf(schema) } }
    : media && Object.fromEntries(media.map((type) => [type, { schema: { type: 'string' } as JsonSchema }]));
  return {
    description,
    ...(headers && {
      headers: Object.fromEntries(
        Object.entries(headers).map(([name, about]) => [name, { description: about, schema: { type: 'string' } }]),
      ),
    }),
    ...(content && { content }),
  };
}

function parameters(
  schemaOf: SchemaOf,
  where: ParameterObject['in'],
  params: Record<string, v.GenericSchema> = {},
): ParameterObject[] {
  return Object.entries(params).map(([name, schema]) => {
    const { description, ...converted } = schemaOf(schema);
    const optional = schema.type === 'optional' || schema.type === 'nullish' || schema.type === 'exact_optional';
    return { name, in: where, required: where === 'path' || !optional, ...(description && { description }), schema: converted };
  });
}

function operationObject(schemaOf: SchemaOf, op: Operation): OperationObject {
  const guard = guarded[op.guard];
  const params = [...parameters(schemaOf, 'path', op.params), ...parameters(schemaOf, 'query', op.query)];
  const all = { ...guard.replies, ...(op.body && BODY_REPLIES), ...op.replies };
  return {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    ...(op.description && { description: op.description }),
    ...(guard.security && { security: guard.security }),
    'x-guard': op.guard,
    ...(params.length > 0 && { parameters: params }),
    ...(op.body && { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(op.body) } } } }),
    responses: Object.fromEntries(
      Object.entries(all)
        .sort(([a], [b]) => Number(a) - Number(b))
        .map(([status, reply]) => [status, response(schemaOf, reply)]),
    ),
  };
}

function build(): ApiDocument {
  const { schemaOf, components } = convertAll();
  const paths: ApiDocument['paths'] = {};
  for (const op of OPERATIONS) paths[op.path] = { ...paths[op.path], [op.method]: operationObject(schemaOf, op) };
  return {
    openapi: '3.1.0',
    info: { title: 'edgecam HTTP API', version: VERSION, description: INTRO },
    tags: TAGS,
    paths,
    components: { schemas: components, securitySchemes: SECURITY_SCHEMES },
  };
}

let built: ApiDocument | undefined;

export function openApiDocument(): ApiDocument {
  built ??= build();
  return built;
}
