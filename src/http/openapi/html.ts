import type {
  HeaderObject,
  JsonSchema,
  MediaTypeObject,
  OpenApiDocument,
  OperationObject,
  ParameterObject,
  Reference,
  ResponseObject,
  SecurityRequirement,
} from './types.js';
import { HTTP_METHODS } from './types.js';

// The API reference page, rendered on the server from the OpenAPI document: one self-contained HTML file with
// inline styles only (the CSP allows no outside scripts, fonts or styles, and the page needs none).

const esc = (text: string): string =>
  text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch);

/** Inline Markdown of the document's descriptions: `code`, **bold**, [links](https://…). Everything is escaped. */
function inline(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part) => {
      if (part.length > 1 && part.startsWith('`') && part.endsWith('`')) return `<code>${esc(part.slice(1, -1))}</code>`;
      return esc(part)
        .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
        .replace(/\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)/g, '<a href="$2" rel="noreferrer">$1</a>');
    })
    .join('');
}

/** Block Markdown: paragraphs, and lists of lines that start with "- ". */
function markdown(text: string | undefined): string {
  if (!text) return '';
  return text
    .split(/\n{2,}/)
    .map((block) => {
      const lines = block.split('\n');
      if (lines.every((line) => line.startsWith('- '))) return `<ul>${lines.map((line) => `<li>${inline(line.slice(2))}</li>`).join('')}</ul>`;
      return `<p>${inline(lines.join(' '))}</p>`;
    })
    .join('\n');
}

const isRef = (value: unknown): value is Reference => typeof value === 'object' && value !== null && '$ref' in value;
const refName = (ref: string): string => ref.slice(ref.lastIndexOf('/') + 1);
const schemaLink = (ref: string): string => `<a href="#schema-${esc(refName(ref))}">${esc(refName(ref))}</a>`;

const SAFE_INTEGER = Number.MAX_SAFE_INTEGER;

/** A short, readable type: `string (uuid)`, `array of Message`, `"viewer" | "editor"`, `string | null`. */
function typeLabel(schema: JsonSchema): string {
  if (typeof schema.$ref === 'string') return schemaLink(schema.$ref);
  if (schema.const !== undefined) return `<code>${esc(JSON.stringify(schema.const))}</code>`;
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => `<code>${esc(JSON.stringify(v))}</code>`).join(' | ');
  for (const [key, joiner] of [['anyOf', ' | '], ['oneOf', ' | '], ['allOf', ' &amp; ']] as const) {
    const members = schema[key];
    if (Array.isArray(members)) return members.map((m) => typeLabel(m as JsonSchema)).join(joiner);
  }
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const label = types
    .map((type) => {
      if (type === 'array') return `array of ${schema.items && typeof schema.items === 'object' ? typeLabel(schema.items as JsonSchema) : 'any'}`;
      if (type === 'string' && typeof schema.format === 'string') return `string (${esc(schema.format)})`;
      return esc(String(type));
    })
    .join(' | ');
  return label || 'any';
}

function range(min: number | undefined, max: number | undefined, unit: string): string | undefined {
  if (min !== undefined && max !== undefined) return `${min} to ${max}${unit}`;
  if (min !== undefined) return `at least ${min}${unit}`;
  if (max !== undefined) return `at most ${max}${unit}`;
  return undefined;
}

/** The constraints a reader needs, in words. Patterns of formatted strings (uuid, date-time, email) are left out. */
function constraints(schema: JsonSchema): string[] {
  const out: string[] = [];
  const length = range(schema.minLength, schema.maxLength, ' characters');
  if (length) out.push(length);
  const max = schema.maximum !== undefined && schema.maximum >= SAFE_INTEGER ? undefined : schema.maximum;
  const numbers = range(schema.minimum, max, '');
  if (numbers) out.push(numbers);
  if (typeof schema.pattern === 'string' && schema.format === undefined) out.push(`pattern <code>${esc(schema.pattern)}</code>`);
  if (schema.default !== undefined) out.push(`default <code>${esc(JSON.stringify(schema.default))}</code>`);
  return out;
}

function describe(schema: JsonSchema): string {
  const parts = [schema.description ? inline(schema.description) : ''];
  const limits = constraints(schema);
  if (limits.length) parts.push(`<span class="limits">${limits.join('; ')}</span>`);
  return parts.filter(Boolean).join(' ');
}

interface FieldRow {
  name: string;
  schema: JsonSchema;
  required: boolean;
}

/** An object's fields, with inline nested objects (and arrays of them) flattened to `a.b` and `a[].b`. */
function fieldRows(schema: JsonSchema, prefix = '', depth = 0): FieldRow[] {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set(schema.required ?? []);
  const rows: FieldRow[] = [];
  for (const [name, property] of Object.entries(properties)) {
    const full = `${prefix}${name}`;
    rows.push({ name: full, schema: property, required: required.has(name) });
    if (depth >= 3) continue;
    if (property.type === 'object' && property.properties) rows.push(...fieldRows(property, `${full}.`, depth + 1));
    const items = property.items as JsonSchema | undefined;
    if (property.type === 'array' && items && items.type === 'object' && items.properties) rows.push(...fieldRows(items, `${full}[].`, depth + 1));
  }
  return rows;
}

function fieldsTable(schema: JsonSchema): string {
  const rows = fieldRows(schema);
  if (!rows.length) return '';
  const body = rows
    .map(
      (row) =>
        `<tr><td><code>${esc(row.name)}</code>${row.required ? ' <span class="req">required</span>' : ''}</td><td>${typeLabel(row.schema)}</td><td>${describe(row.schema)}</td></tr>`,
    )
    .join('\n');
  const closed = schema.additionalProperties === false ? '<p class="note">No other fields are allowed.</p>' : '';
  return `<table><thead><tr><th>Field</th><th>Type</th><th>Description</th></tr></thead><tbody>\n${body}\n</tbody></table>${closed}`;
}

function resolve<T>(doc: OpenApiDocument, value: T | Reference): T {
  if (!isRef(value)) return value;
  const [, , section, name] = value.$ref.split('/');
  const components = doc.components as unknown as Record<string, Record<string, unknown>>;
  const found = section && name ? components[section]?.[name] : undefined;
  if (found === undefined) throw new Error(`openapi: unresolved ${value.$ref}`);
  return found as T;
}

const ACCESS_WORDS: Record<string, string> = {
  bearerAuth: 'API token or JWT (<code>Authorization: Bearer</code>)',
  sessionCookie: 'session cookie',
  adminToken: 'the admin token',
};

function accessText(security: SecurityRequirement[]): string {
  if (!security.length) return 'None.';
  const optional = security.some((s) => Object.keys(s).length === 0);
  const ways = security.filter((s) => Object.keys(s).length > 0).map((s) => Object.keys(s).map((k) => ACCESS_WORDS[k] ?? esc(k)).join(' and '));
  return `${optional ? 'Optional: ' : ''}${ways.join(', or ')}.`;
}

function parametersTable(doc: OpenApiDocument, parameters: Array<ParameterObject | Reference>): string {
  const rows = parameters
    .map((p) => resolve(doc, p))
    .map(
      (p) =>
        `<tr><td><code>${esc(p.name)}</code>${p.required ? ' <span class="req">required</span>' : ''}</td><td>${esc(p.in)}</td><td>${typeLabel(p.schema)}</td><td>${inline(p.description)}${
          constraints(p.schema).length ? ` <span class="limits">${constraints(p.schema).join('; ')}</span>` : ''
        }</td></tr>`,
    )
    .join('\n');
  return `<h4>Parameters</h4><table><thead><tr><th>Name</th><th>In</th><th>Type</th><th>Description</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

function mediaType(type: string, media: MediaTypeObject): string {
  const schema = media.schema;
  let label: string;
  if (typeof schema.$ref === 'string') label = schemaLink(schema.$ref);
  else if (Array.isArray(schema.allOf)) {
    const base = schema.allOf.find((m): m is JsonSchema => typeof m === 'object' && typeof (m as JsonSchema).$ref === 'string');
    label = base?.$ref ? schemaLink(base.$ref) : typeLabel(schema);
  } else label = typeLabel(schema);
  const example = typeof media.example === 'string' ? `<pre>${esc(media.example)}</pre>` : '';
  const details = typeof schema.$ref === 'string' || schema.allOf ? '' : markdown(schema.description);
  return `<div class="media"><p><code>${esc(type)}</code>: ${label}</p>${details}${example}</div>`;
}

function headersList(doc: OpenApiDocument, headers: Record<string, HeaderObject | Reference>): string {
  const items = Object.entries(headers)
    .map(([name, h]) => {
      const header = resolve(doc, h);
      return `<li><code>${esc(name)}</code>: ${inline(header.description)}</li>`;
    })
    .join('');
  return `<div class="headers"><span>Headers</span><ul>${items}</ul></div>`;
}

function responseBlock(doc: OpenApiDocument, status: string, response: ResponseObject): string {
  const media = Object.entries(response.content ?? {})
    .map(([type, m]) => mediaType(type, m))
    .join('');
  const headers = response.headers ? headersList(doc, response.headers) : '';
  return `<div class="response"><div class="status s${esc(status.charAt(0))}">${esc(status)}</div><div class="body">${markdown(response.description)}${media}${headers}</div></div>`;
}

/** Every error answer of an operation in one table: status, code, when. Each is an `Error` body. */
function errorsTable(errors: Array<[string, ResponseObject]>): string {
  const rows: string[] = [];
  for (const [status, response] of errors) {
    const examples = Object.entries(response.content?.['application/json']?.examples ?? {});
    const headers = Object.keys(response.headers ?? {});
    const sends = headers.length ? ` <span class="limits">Sends ${headers.map((h) => `<code>${esc(h)}</code>`).join(', ')}.</span>` : '';
    if (!examples.length) rows.push(`<tr><td class="status s${esc(status.charAt(0))}">${esc(status)}</td><td></td><td>${markdown(response.description)}${sends}</td></tr>`);
    for (const [code, example] of examples) {
      rows.push(`<tr><td class="status s${esc(status.charAt(0))}">${esc(status)}</td><td><code>${esc(code)}</code></td><td>${inline(example.summary ?? '')}${sends}</td></tr>`);
    }
  }
  return `<table class="errors"><thead><tr><th>Status</th><th>Code</th><th>When</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table><p class="note">Error bodies are ${schemaLink('#/components/schemas/Error')}: <code>{"error": {"code", "message"}}</code>.</p>`;
}

function operationBlock(doc: OpenApiDocument, method: string, path: string, op: OperationObject): string {
  const parts = [
    `<section class="op" id="op-${esc(op.operationId)}">`,
    `<h3><span class="method m-${method}">${method.toUpperCase()}</span> <code class="path">${esc(path)}</code></h3>`,
    `<p class="summary">${inline(op.summary)}</p>`,
    markdown(op.description),
    `<p class="auth"><strong>Authentication:</strong> ${accessText(op.security)}</p>`,
  ];
  if (op.parameters?.length) parts.push(parametersTable(doc, op.parameters));
  if (op.requestBody) {
    parts.push('<h4>Request body</h4>', markdown(op.requestBody.description));
    for (const [type, media] of Object.entries(op.requestBody.content)) {
      parts.push(mediaType(type, media));
      const schema = resolve<JsonSchema>(doc, media.schema as JsonSchema | Reference);
      parts.push(markdown(schema.description), fieldsTable(schema));
    }
  }
  const responses = Object.entries(op.responses);
  parts.push('<h4>Responses</h4>');
  for (const [status, response] of responses) if (Number(status) < 400) parts.push(responseBlock(doc, status, response));
  const errors = responses.filter(([status]) => Number(status) >= 400);
  if (errors.length) parts.push('<h4>Errors</h4>', errorsTable(errors));
  parts.push('</section>');
  return parts.filter(Boolean).join('\n');
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1f2328; --muted: #59636e; --bg: #fff; --panel: #f6f8fa; --line: #d1d9e0; --link: #0550ae; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --panel: #151b23; --line: #3d444d; --link: #4493f8; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--link); text-decoration: none; } a:hover { text-decoration: underline; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.9em; }
code { background: var(--panel); padding: 0.1em 0.3em; border-radius: 4px; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 0.75rem 1rem; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
header { padding: 1.5rem 2rem 1rem; border-bottom: 1px solid var(--line); }
header h1 { margin: 0 0 0.25rem; font-size: 1.6rem; }
header p { margin: 0.2rem 0; color: var(--muted); }
.layout { display: grid; grid-template-columns: 18rem minmax(0, 1fr); }
nav { position: sticky; top: 0; align-self: start; max-height: 100vh; overflow-y: auto; padding: 1rem 1rem 2rem 2rem; border-right: 1px solid var(--line); font-size: 0.9rem; }
nav h2 { font-size: 0.75rem; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); margin: 1.2rem 0 0.4rem; }
nav ul { list-style: none; margin: 0; padding: 0; }
nav li { margin: 0.15rem 0; }
nav li a { display: flex; gap: 0.4rem; align-items: baseline; color: var(--fg); }
nav li a code { background: none; padding: 0; overflow-wrap: anywhere; }
main { padding: 1rem 2rem 4rem; max-width: 62rem; }
main h2 { font-size: 1.35rem; margin: 2.5rem 0 0.5rem; padding-bottom: 0.3rem; border-bottom: 1px solid var(--line); }
.op { margin: 1.5rem 0 2.5rem; }
.op h3 { font-size: 1.05rem; margin: 0 0 0.25rem; display: flex; gap: 0.6rem; align-items: center; flex-wrap: wrap; }
.op h3 code.path { background: none; padding: 0; font-size: 1rem; }
.op h4 { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted); margin: 1.2rem 0 0.4rem; }
.summary { font-weight: 600; margin: 0.2rem 0 0.5rem; }
.method { display: inline-block; min-width: 3.8rem; text-align: center; font: 700 0.72rem/1.6 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; border-radius: 4px; padding: 0 0.35rem; color: #fff; }
.m-get { background: #0969da; } .m-post { background: #1a7f37; } .m-put { background: #9a6700; } .m-patch { background: #8250df; } .m-delete { background: #cf222e; }
nav .method { min-width: 3.2rem; font-size: 0.65rem; }
table { border-collapse: collapse; width: 100%; margin: 0.3rem 0 0.6rem; font-size: 0.9rem; }
th, td { text-align: left; vertical-align: top; padding: 0.4rem 0.6rem; border-bottom: 1px solid var(--line); }
th { font-weight: 600; color: var(--muted); font-size: 0.8rem; }
td:first-child { white-space: nowrap; }
table.errors td.status { line-height: inherit; width: 4rem; }
table.errors td:nth-child(2) { white-space: nowrap; }
.req { font-size: 0.72rem; color: #cf222e; }
.limits { color: var(--muted); }
.note, .auth { color: var(--muted); font-size: 0.9rem; }
.response { display: grid; grid-template-columns: 3.5rem minmax(0, 1fr); gap: 0.75rem; padding: 0.6rem 0; border-top: 1px solid var(--line); }
.response p, .response ul { margin: 0.1rem 0 0.4rem; }
.status { font: 700 0.85rem/1.8 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.s2 { color: #1a7f37; } .s3 { color: #0969da; } .s4 { color: #9a6700; } .s5 { color: #cf222e; }
.media p { margin: 0.2rem 0; }
.headers { font-size: 0.88rem; color: var(--muted); } .headers ul { margin: 0.1rem 0; padding-left: 1.2rem; }
.schema { margin: 1.2rem 0 2rem; } .schema h3 { font-size: 1.05rem; margin: 0 0 0.3rem; }
@media (max-width: 52rem) { .layout { display: block; } nav { position: static; max-height: none; border-right: 0; border-bottom: 1px solid var(--line); } main, header { padding-left: 1rem; padding-right: 1rem; } }
`;

/** The reference page for `doc`. */
export function renderApiReference(doc: OpenApiDocument): string {
  const operations: Array<{ tag: string; method: string; path: string; op: OperationObject }> = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (op) operations.push({ tag: op.tags[0] ?? 'Other', method, path, op });
    }
  }
  const tags = doc.tags.filter((tag) => operations.some((o) => o.tag === tag.name));

  const nav = tags
    .map((tag) => {
      const links = operations
        .filter((o) => o.tag === tag.name)
        .map((o) => `<li><a href="#op-${esc(o.op.operationId)}"><span class="method m-${o.method}">${o.method.toUpperCase()}</span><code>${esc(o.path)}</code></a></li>`)
        .join('');
      return `<h2><a href="#tag-${esc(tag.name)}">${esc(tag.name)}</a></h2><ul>${links}</ul>`;
    })
    .join('\n');

  const sections = tags
    .map((tag) => {
      const ops = operations.filter((o) => o.tag === tag.name).map((o) => operationBlock(doc, o.method, o.path, o.op));
      return `<section id="tag-${esc(tag.name)}"><h2>${esc(tag.name)}</h2>${markdown(tag.description)}\n${ops.join('\n')}</section>`;
    })
    .join('\n');

  const auth = Object.entries(doc.components.securitySchemes)
    .map(([name, scheme]) => {
      const how = scheme.type === 'http' ? `<code>Authorization: Bearer</code> (${esc(scheme.bearerFormat ?? scheme.scheme ?? '')})` : `cookie <code>${esc(scheme.name ?? '')}</code>`;
      return `<tr><td><code>${esc(name)}</code></td><td>${how}</td><td>${inline(scheme.description)}</td></tr>`;
    })
    .join('\n');

  const schemas = Object.entries(doc.components.schemas)
    .map(
      ([name, schema]) =>
        `<section class="schema" id="schema-${esc(name)}"><h3>${esc(name)}</h3>${markdown(schema.description)}${fieldsTable(schema) || `<p>${typeLabel(schema)}</p>`}</section>`,
    )
    .join('\n');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(doc.info.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${esc(doc.info.title)}</h1>
<p>${inline(doc.info.summary)}</p>
<p>API version ${esc(doc.info.version)} · OpenAPI ${esc(doc.openapi)} · <a href="/api/openapi.json">openapi.json</a></p>
</header>
<div class="layout">
<nav aria-label="Operations">${nav}
<h2><a href="#schemas">Schemas</a></h2></nav>
<main>
<section id="overview">${markdown(doc.info.description)}</section>
<section id="authentication"><h2>Authentication</h2>
<table><thead><tr><th>Scheme</th><th>Sent as</th><th>Description</th></tr></thead><tbody>
${auth}
</tbody></table></section>
${sections}
<section id="schemas"><h2>Schemas</h2>
${schemas}
</section>
</main>
</div>
</body>
</html>
`;
}
