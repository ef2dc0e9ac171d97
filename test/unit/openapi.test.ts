import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import type { Router } from 'express';
import { CameraRegistry } from '../../core/capture/registry';
import { silentLogger } from '../../core/log/logger';
import { MjpegStreams } from '../../runtime/api/mjpeg';
import { openApiText } from '../../runtime/api/openapi-cli';
import { expressPath } from '../../runtime/api/route';
import { API_BASE, apiDocument, apiRouter, disabled, documentedRoutes } from '../../runtime/api/router';
import type { Authenticator } from '../../runtime/auth/middleware';
import type { UserStore } from '../../runtime/stores/users';
import { signedInAs } from '../support/api-auth';

/**
 * The API contract (issue 12, acceptance 4): docs/openapi.json is what the route declarations say now, every mounted
 * route is in it and every operation in it is mounted, and it is a valid OpenAPI 3.1 document.
 */
const ROOT = path.join(__dirname, '..', '..');
const document = apiDocument(documentedRoutes());
type Operation = { operationId: string; 'x-glimpser-role': string; security: unknown[]; responses: Record<string, unknown> };
const operations = Object.entries(document.paths).flatMap(([p, methods]) =>
  Object.entries(methods as Record<string, Operation>).map(([method, op]) => ({ method, path: p, op })),
);

/** The method and path of every route on an Express router, the 405 catch-alls (`all`) left out. */
function mounted(router: Router): string[] {
  interface Layer {
    route?: { path: string; methods: Record<string, boolean> };
  }
  return (router.stack as Layer[]).flatMap((layer) =>
    layer.route && !layer.route.methods._all ? Object.keys(layer.route.methods).map((m) => `${m.toUpperCase()} ${API_BASE}${layer.route!.path}`) : [],
  );
}

describe('docs/openapi.json', () => {
  it('is current: regenerate it with `npm run openapi` after changing a route declaration', () => {
    const committed = readFileSync(path.join(ROOT, 'docs', 'openapi.json'), 'utf8');
    const current = openApiText();
    if (committed !== current) throw new Error('docs/openapi.json is stale: run `npm run openapi` and commit the result');
    expect(committed).toBe(current);
  });
});

describe('the OpenAPI document', () => {
  it('documents every mounted API route and mounts every documented operation (parity)', () => {
    const router = apiRouter({
      users: disabled<UserStore>('the user store'),
      auth: { requireUser: signedInAs('admin').requireUser } as Authenticator,
      cameras: new CameraRegistry(),
      streams: new MjpegStreams({ maxClientsPerCamera: 1, log: silentLogger }),
      maxStreamClientsPerCamera: 1,
      log: silentLogger,
    });
    const routes = mounted(router).sort();
    const documented = operations.map(({ method, path: p }) => `${method.toUpperCase()} ${expressPath(p)}`).sort();
    expect(routes.length).toBeGreaterThan(30);
    expect(documented).toEqual(routes);
  });

  it('names the role of every operation, in an extension and in words, and its security', () => {
    for (const { method, path: p, op } of operations) {
      const where = `${method.toUpperCase()} ${p}`;
      expect({ where, role: op['x-glimpser-role'] }).toEqual({ where, role: expect.stringMatching(/^(public|viewer|operator|admin)$/) });
      const isPublic = op['x-glimpser-role'] === 'public';
      expect({ where, security: op.security.length > 0 }).toEqual({ where, security: !isPublic });
      if (!isPublic) expect({ where, answers: ['401', '403'].filter((s) => s in op.responses) }).toEqual({ where, answers: ['401', '403'] });
    }
    // Public: sign-in, the web app's "who am I" (the session cookie or null; nothing else is read), and the signed
    // snapshot link, whose HMAC signature is the credential (core/alerts/media-links.ts).
    expect(operations.filter(({ op }) => op['x-glimpser-role'] === 'public').map(({ path: p }) => p)).toEqual([
      `${API_BASE}/auth/login`,
      `${API_BASE}/auth/session`,
      `${API_BASE}/media/events/{id}/snapshot.jpg`,
    ]);
  });

  it('has unique operation ids', () => {
    const ids = operations.map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('is valid against the OpenAPI 3.1 schema, and every schema in it is valid JSON Schema 2020-12', () => {
    const schemaFile = path.join(ROOT, 'node_modules', '@seriousme', 'openapi-schema-validator', 'schemas', 'v3.1', 'schema.json');
    // Formats are left out: the schema's uri formats would need ajv-formats, and no path or URL here is free text.
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')) as object);
    const valid = validate(JSON.parse(JSON.stringify(document)));
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    // The OpenAPI schema leaves Schema Objects to the dialect; compiling each one checks it as JSON Schema 2020-12.
    const schemas = new Ajv2020({ strict: false, validateFormats: false });
    const found: unknown[] = [];
    const collect = (value: unknown, key: string): void => {
      if (key === 'schema' && typeof value === 'object' && value !== null && !('$ref' in value)) found.push(value);
      if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) collect(v, k);
    };
    collect(document, '');
    expect(found.length).toBeGreaterThan(50);
    for (const schema of found) expect(() => schemas.compile(schema as object)).not.toThrow();
  });
});
