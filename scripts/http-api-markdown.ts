import type { ApiDocument, OperationObject } from '../src/core/http/openapi/document.ts';

/**
 * docs/http-api.md, rendered from the OpenAPI document (GET /api/openapi.json): `npm run docs:http`
 * writes it, and test/unit/http-api-docs.test.ts fails when the file is not what this renders.
 */

// biome-ignore lint/suspicious/noExplicitAny: a JSON Schema is read field by field, whatever it holds.
type Schema = Record<string, any>;

const REF = '#/components/schemas/';

/** GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens; repeats numbered. */
function anchors() {
  const seen = new Map<string, number>();
  return (heading: string) => {
    const base = heading
      .toLowerCase()
      .replace(/[^\w\- ]/g, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    return count === 0 ? base : `${base}-${count}`;
  };
}

/** A table cell: pipes escaped (GitHub splits cells on them even inside code), one line. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n+/g, ' ');
const code = (text: string) => `\`${text}\``;
const row = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
const table = (head: string[], rows: string[][]) => [row(head), row(head.map(() => '---')), ...rows.map(row)];

function schemaLink(ref: string): string {
  const name = ref.replace(REF, '');
  return `[${code(name)}](#${name.toLowerCase()})`;
}

/** The limits a schema sets, in words. */
function rules(schema: Schema): string[] {
  const found: string[] = [];
  if (schema.format) found.push(schema.format);
  if (schema.pattern) found.push(`pattern ${code(schema.pattern)}`);
  const range = (min: unknown, max: unknown, unit: string) => {
    if (min !== undefined && max !== undefined) found.push(`${min}–${max}${unit}`);
    else if (min !== undefined) found.push(`≥ ${min}${unit}`);
    else if (max !== undefined) found.push(`≤ ${max}${unit}`);
  };
  range(schema.minimum, schema.maximum, '');
  range(schema.minLength, schema.maxLength, ' characters');
  range(schema.minItems, schema.maxItems, ' items');
  return found;
}

/** A schema's type in a few words: links for named schemas, values for enums, fields for small objects. */
function typeOf(schema: Schema): string {
  if (schema.$ref) return schemaLink(schema.$ref);
  if (schema.const !== undefined) return code(JSON.stringify(schema.const));
  if (schema.enum) return schema.enum.map((value: unknown) => code(JSON.stringify(value))).join(' | ');
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(' | ');
  let type: string;
  if (schema.type === 'array') type = `array of ${typeOf(schema.items ?? {})}`;
  else if (schema.type === 'object' && schema.properties) {
    const required = new Set(schema.required ?? []);
    const fields = Object.entries(schema.properties as Record<string, Schema>).map(
      ([name, inner]) => `${name}${required.has(name) ? '' : '?'}: ${typeOf(inner)}`,
    );
    type = `{${fields.join(', ')}}`;
  } else if (schema.type === 'object' && schema.additionalProperties) type = `object of ${typeOf(schema.additionalProperties)}`;
  else type = schema.type ?? 'any JSON';
  const limits = rules(schema);
  return limits.length > 0 ? `${type} (${limits.join(', ')})` : type;
}

const GUARDS: Record<OperationObject['x-guard'], string> = {
  none: 'none',
  user: 'a user token',
  operator: 'operator+',
  admin: 'admin',
  metrics: 'METRICS_TOKEN or admin',
};

function operationSection(method: string, path: string, op: OperationObject): string[] {
  const lines = [`### ${code(`${method.toUpperCase()} ${path}`)}`, '', `${op.summary}.`, ''];
  if (op.description) lines.push(op.description, '');
  lines.push(`Auth: ${GUARDS[op['x-guard']]}.`, '');
  if (op.parameters?.length) {
    const params = op.parameters.map((p) => [
      code(p.name),
      p.in,
      p.required ? 'yes' : 'no',
      typeOf(p.schema as Schema),
      p.description ?? '',
    ]);
    lines.push(...table(['parameter', 'in', 'required', 'type', 'meaning'], params), '');
  }
  const body = op.requestBody?.content['application/json']?.schema;
  if (body) lines.push(`Body (JSON): ${typeOf(body as Schema)}`, '');
  const replies = Object.entries(op.responses).map(([status, reply]) => {
    const bodies = Object.entries(reply.content ?? {}).map(([media, { schema }]) =>
      media === 'application/json' ? typeOf(schema as Schema) : media,
    );
    const headers = Object.keys(reply.headers ?? {}).map((name) => `${code(name)} header`);
    return [status, [...bodies, ...headers].join(', '), reply.description];
  });
  lines.push(...table(['status', 'body', 'meaning'], replies), '');
  return lines;
}

function schemaSection(name: string, schema: Schema): string[] {
  const lines = [`### ${code(name)}`, ''];
  if (schema.description) lines.push(schema.description, '');
  if (schema.type === 'object' && schema.properties) {
    const required = new Set(schema.required ?? []);
    const fields = Object.entries(schema.properties as Record<string, Schema>).map(([field, inner]) => [
      code(field),
      required.has(field) ? 'yes' : 'no',
      typeOf({ ...inner, description: undefined }),
      inner.description ?? '',
    ]);
    lines.push(...table(['field', 'required', 'type', 'meaning'], fields), '');
    if (schema.additionalProperties === false) lines.push('No other field is accepted.', '');
  } else lines.push(typeOf({ ...schema, description: undefined }), '');
  return lines;
}

export function httpApiMarkdown(doc: ApiDocument): string {
  const anchor = anchors();
  const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ method, path, op: op as OperationObject })),
  );
  const overview = operations.map(({ method, path, op }) => {
    const heading = code(`${method.toUpperCase()} ${path}`);
    return [`[${heading}](#${anchor(heading)})`, op.summary, GUARDS[op['x-guard']]];
  });
  const byTag = doc.tags.flatMap((tag) => [
    `## ${tag.name}`,
    '',
    tag.description,
    '',
    ...operations
      .filter(({ op }) => op.tags.includes(tag.name))
      .flatMap(({ method, path, op }) => operationSection(method, path, op)),
  ]);
  const schemas = Object.entries(doc.components.schemas).flatMap(([name, schema]) => schemaSection(name, schema as Schema));
  return [
    '# HTTP API',
    '',
    'Generated from the OpenAPI document by `npm run docs:http`; a test fails when this file is out of date.',
    'The server serves the document itself, OpenAPI 3.1, at **`GET /api/openapi.json`** (no token needed), for',
    'clients, code generators and API tools. It is made from the same valibot schemas that validate the requests',
    '(`src/core/http/schemas.ts`), so what it says a body may hold is what the server accepts.',
    '',
    doc.info.description,
    '',
    'The WebSocket protocols are in [protocol.md](protocol.md), [api-v1.md](api-v1.md) and [camera.md](camera.md);',
    'presets, schedules and history in [presets.md](presets.md); the camera-state keys in [state.md](state.md).',
    '',
    ...table(['endpoint', 'what', 'auth'], overview),
    '',
    ...byTag,
    '## Schemas',
    '',
    ...schemas,
  ].join('\n');
}
