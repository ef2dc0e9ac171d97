import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import { contentTypes, pathParameters, type Route, type RouteResponse } from './route';

/**
 * The OpenAPI 3.1 document built from the route declarations (runtime/api/route.ts). TypeBox schemas are JSON
 * Schema, and OpenAPI 3.1 takes JSON Schema 2020-12 as it is, so every schema goes in unchanged.
 */
export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
  /** Where the routes are mounted, e.g. `/api`; it prefixes every path of the document. */
  basePath: string;
  /** The session cookie's name, for the cookie security scheme. */
  sessionCookie: string;
}

export type OpenApiDocument = Record<string, unknown> & { openapi: '3.1.0'; paths: Record<string, Record<string, OpenApiOperation>> };
export type OpenApiOperation = Record<string, unknown> & { operationId: string; 'x-glimpser-role': Route['access'] };

/** RFC 9457 problem details: what every error answer of the API is. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'A URI naming the kind of problem; about:blank when the status says it all.' }),
    title: Type.String({ description: 'A short summary of the kind of problem.' }),
    status: Type.Integer({ description: 'The HTTP status.' }),
    detail: Type.String({ description: 'What went wrong with this request: names the input that was wrong and what was expected.' }),
    instance: Type.String({ description: 'The request path.' }),
    error: Type.String({ description: 'A stable code for programs, e.g. invalid_request, not_found, forbidden.' }),
    errors: Type.Optional(
      Type.Array(Type.Object({ field: Type.String(), detail: Type.String() }), {
        description: 'On a 400: the wrong field (`body.keep`, `limit`) and what was expected.',
      }),
    ),
  },
  { additionalProperties: true, description: 'RFC 9457 problem details' },
);

const ROLE_WORDS: Record<Route['access'], string> = {
  public: 'No sign-in needed.',
  viewer: 'Needs the **viewer** role or higher (viewer, operator, admin).',
  operator: 'Needs the **operator** role or higher (operator, admin).',
  admin: 'Needs the **admin** role.',
};

/** The error answers a declaration implies, added beside the ones the route lists itself (as shared components). */
const IMPLIED: Record<number, { name: string; description: string }> = {
  400: { name: 'BadRequest', description: 'The input is wrong: `detail` names the field and what was expected.' },
  401: { name: 'Unauthorized', description: 'Not signed in, or the credential is wrong, expired or revoked.' },
  403: { name: 'Forbidden', description: 'Signed in without the role this operation needs.' },
  413: { name: 'PayloadTooLarge', description: 'The body is larger than this operation accepts.' },
  415: { name: 'UnsupportedMediaType', description: 'The body has a content type or encoding this operation does not accept.' },
  429: {
    name: 'TooManyRequests',
    description: 'Too many requests (the RateLimit and RateLimit-Policy headers say what is left) or failed sign-ins: wait for Retry-After.',
  },
};

export function openApiDocument(routes: readonly Route[], info: OpenApiInfo): OpenApiDocument {
  const paths: Record<string, Record<string, OpenApiOperation>> = {};
  for (const route of routes) {
    const path = `${info.basePath}${route.path}`;
    paths[path] ??= {};
    paths[path][route.method] = operation(route);
  }
  const tags = [...new Set(routes.flatMap((route) => route.tags))].sort().map((name) => ({ name }));
  return plain({
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    info: { title: info.title, version: info.version, ...(info.description ? { description: info.description } : {}) },
    tags,
    paths,
    components: {
      schemas: { Problem: ProblemSchema },
      responses: Object.fromEntries(Object.entries(IMPLIED).map(([status, { name, description }]) => [name, responseObject({ description }, Number(status))])),
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A token from sign-in, or an API key.' },
        session: { type: 'apiKey', in: 'cookie', name: info.sessionCookie, description: "The web app's HttpOnly session cookie." },
        basic: { type: 'http', scheme: 'basic', description: 'Username and password on every request.' },
      },
    },
  });
}

function operation(route: Route): OpenApiOperation {
  const parameters = [...pathParameterObjects(route), ...queryParameterObjects(route.query)];
  const op: OpenApiOperation = {
    operationId: route.operationId,
    summary: route.summary,
    description: [route.description, ROLE_WORDS[route.access]].filter(Boolean).join('\n\n'),
    tags: [...route.tags],
    'x-glimpser-role': route.access,
    security: route.access === 'public' ? [] : [{ bearer: [] }, { session: [] }, { basic: [] }],
    responses: responses(route),
  };
  if (parameters.length > 0) op.parameters = parameters;
  if (route.body) {
    const types = contentTypes(route.body);
    op.requestBody = {
      required: route.body.required ?? true,
      description: `At most ${route.body.limitBytes} bytes.`,
      content: Object.fromEntries(types.map((type) => [type, { schema: route.body?.schema }])),
    };
  }
  return op;
}

function pathParameterObjects(route: Route): Record<string, unknown>[] {
  return pathParameters(route.path).map((name) => {
    const schema: TSchema = route.params?.properties[name] ?? Type.String();
    return { name, in: 'path', required: true, schema, ...descriptionOf(schema) };
  });
}

function queryParameterObjects(query: TObject | undefined): Record<string, unknown>[] {
  if (!query) return [];
  const required = new Set(query.required ?? []);
  return Object.entries(query.properties).map(([name, schema]) => ({ name, in: 'query', required: required.has(name), schema, ...descriptionOf(schema) }));
}

function descriptionOf(schema: TSchema): { description?: string } {
  return typeof schema.description === 'string' ? { description: schema.description } : {};
}

function responses(route: Route): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [status, response] of Object.entries(route.responses)) out[status] = responseObject(response, Number(status));
  const implied = [400];
  if (route.access !== 'public') implied.push(401, 403, 429);
  if (route.body) implied.push(413, 415);
  for (const status of implied) out[String(status)] ??= { $ref: `#/components/responses/${IMPLIED[status].name}` };
  return out;
}

function responseObject(response: RouteResponse, status: number): Record<string, unknown> {
  const object: Record<string, unknown> = { description: response.description };
  if (status >= 400) object.content = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };
  else if (response.contentType || response.schema)
    object.content = { [response.contentType ?? 'application/json']: response.schema ? { schema: response.schema } : {} };
  if (response.headers) object.headers = response.headers;
  return object;
}

/** TypeBox keeps its own markers under symbol keys; a JSON round trip leaves the plain JSON Schema. */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
