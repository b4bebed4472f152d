import { z } from 'zod';
import * as s from '../schemas.js';
import type { JsonSchema, ParameterObject } from './types.js';

/**
 * The document's schemas are generated from the zod schemas the routes validate with (src/http/schemas.ts), never
 * written twice. Requests are converted as zod's input type, responses as its output type.
 */

/** OpenAPI 3.1 schemas are JSON Schema 2020-12. */
const TARGET = 'draft-2020-12';

/** Request bodies: what a client may send. */
export const requestComponents = {
  CreateUserBody: s.createUserBody,
  SignInBody: s.signInBody,
  CreateTokenBody: s.createTokenBody,
  CreateReportBody: s.createReportBody,
  PatchReportBody: s.patchReportBody,
  MemberBody: s.memberBody,
  SendMessageBody: s.sendMessageBody,
} as const satisfies Record<string, z.ZodType>;

/** Response bodies: what the server answers. */
export const responseComponents = {
  Error: s.errorSchema,
  Health: s.healthSchema,
  Ready: s.readySchema,
  User: s.userSchema,
  Me: s.meSchema,
  CreatedUser: s.createdUserSchema,
  CreatedToken: s.createdTokenSchema,
  Report: s.reportSchema,
  ReportSummary: s.reportSummarySchema,
  ReportList: s.reportListSchema,
  Member: s.memberSchema,
  Message: s.messageSchema,
  MessagesPage: s.messagesPageSchema,
  Turn: s.turnSchema,
  StoppedAnswer: s.stoppedAnswerSchema,
  ConversationExport: s.conversationExportSchema,
} as const satisfies Record<string, z.ZodType>;

export type RequestComponent = keyof typeof requestComponents;
export type ResponseComponent = keyof typeof responseComponents;
export type ComponentName = RequestComponent | ResponseComponent;

/** Every component's zod schema by name: what a test validates a real response with. */
export const componentZodSchemas: Readonly<Record<ComponentName, z.ZodType>> = { ...requestComponents, ...responseComponents };

/** A `$ref` to a component: itself a JSON Schema. */
export const schemaRef = (name: ComponentName): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

const ERROR_CODE_NOTE =
  'A stable, machine-readable code from a closed set (see the error responses of each operation). Branch on it, not on the message or the status alone.';

/**
 * What a refinement means, where JSON Schema can say it: zod cannot export a `.refine()`, so the document adds the
 * equivalent keywords (or a description) for these schemas, found by identity.
 */
const refinements = new Map<z.core.$ZodType, JsonSchema>([
  [s.nonEmptyText, { minLength: 1, description: 'Must not be empty or only white space; no NUL characters or unpaired UTF-16 surrogates.' }],
  [s.patchReportBody, { minProperties: 1, description: 'At least one of `title`, `content`, `status`.' }],
  [s.errorSchema.shape.error.shape.code, { description: ERROR_CODE_NOTE }],
  [s.errorSchema.shape.error.shape.message, { description: 'For a person; may change. Never holds a stack trace, SQL or a file path.' }],
]);

function override(io: 'input' | 'output') {
  return (ctx: { zodSchema: z.core.$ZodTypes; jsonSchema: JsonSchema }): void => {
    const schema = ctx.zodSchema;
    const json = ctx.jsonSchema;
    const extra = refinements.get(schema);
    if (extra) {
      for (const [key, value] of Object.entries(extra)) if (json[key] === undefined) json[key] = value;
    }
    if (io === 'input' && schema instanceof z.ZodPipe && !(schema.in instanceof z.ZodTransform) && !(schema.out instanceof z.ZodTransform)) {
      // A validating pipe (`nonEmptyText.pipe(z.string().max(200))`) transforms nothing: a request must pass both
      // sides, so the output side's limits (maxLength, minLength, ...) are request limits too.
      const out = z.toJSONSchema(schema.out, { target: TARGET, io: 'output' });
      for (const [key, value] of Object.entries(out)) if (key !== '$schema' && json[key] === undefined) json[key] = value;
    }
    if (io === 'output' && schema instanceof z.ZodObject && schema._zod.def.catchall === undefined) {
      // z.object strips unknown keys when it parses, which zod's output schema states as additionalProperties:
      // false. A response gains fields over time (additive changes are not breaking), so clients must tolerate
      // them: only strict objects are published as closed.
      delete json.additionalProperties;
    }
  };
}

function generate(registryEntries: Record<string, z.ZodType>, io: 'input' | 'output'): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(registryEntries)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    target: TARGET,
    io,
    uri: (id) => `#/components/schemas/${id}`,
    override: override(io),
    unrepresentable: 'throw',
  });
  const out: Record<string, JsonSchema> = {};
  for (const [id, json] of Object.entries(schemas)) {
    if (id === '__shared') throw new Error('openapi: a zod schema reused across components must be registered by name');
    // Components live inside the document: no dialect or base URI of their own (a fragment-only $id is invalid).
    const { $schema: _dialect, $id: _id, ...rest } = json;
    out[id] = rest;
  }
  return out;
}

/** components.schemas: the request and response components, generated. Names never collide (checked). */
export function componentSchemas(): Record<string, JsonSchema> {
  const requests = generate(requestComponents, 'input');
  const responses = generate(responseComponents, 'output');
  for (const name of Object.keys(requests)) {
    if (name in responses) throw new Error(`openapi: component ${name} is both a request and a response schema`);
  }
  return { ...requests, ...responses };
}

/** A single schema inlined where it is used (a path parameter, a header): converted like a request. */
export function inlineSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: TARGET, io, override: override(io) });
  return rest;
}

/**
 * Query parameters from a zod object schema (as its input type): one parameter per property, each with a
 * description that must be given for every property.
 */
export function queryParameters<S extends z.ZodType<Record<string, unknown>>>(
  schema: S,
  descriptions: Record<keyof z.input<S> & string, string>,
): ParameterObject[] {
  const json = inlineSchema(schema);
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set(json.required ?? []);
  const described = descriptions as Record<string, string>;
  return Object.entries(properties).map(([name, property]) => {
    const description = described[name];
    if (description === undefined) throw new Error(`openapi: query parameter ${name} has no description`);
    return { name, in: 'query', required: required.has(name), description, schema: property };
  });
}
