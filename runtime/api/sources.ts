import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import type { Request, Response, Router } from 'express';
import type { Logger } from '../../core/log/logger';
import type { GlimpserHandles } from '../../nodes/shared/handles';
import { PACKAGE_ROOT } from '../../settings';
import { checkFields, FieldError } from '../sources/fields';
import { probeSource, ProbeFailure } from '../sources/probe';
import {
  cameraIdFor,
  FIELD_KEYS,
  instantiateTemplate,
  loadTemplates,
  TEMPLATE_ENV,
  type FlowNode,
  type NewTab,
  type SourceTemplate,
} from '../sources/templates';
import { apiErrors, HttpError, notFound } from './errors';
import { JpegResponse } from './schemas';
import { routerOf, type Route, type RouteAuth } from './route';

/**
 * Sources without the editor, under /api (admin only: they add and remove flows and fetch from any address):
 *
 * GET    /sources/templates  the templates of flows/templates/ and the fields each asks for
 * POST   /sources/test       one picture from what the form describes, or why there is none
 * POST   /sources            a new flow tab from a template (deployed at once); answers its tab and camera ids
 * GET    /sources            the tabs made from templates
 * DELETE /sources/{id}       removes such a tab
 */

/** The part of Node-RED's runtime flows API (RED.runtime.flows) these routes use. */
export interface FlowsApi {
  getFlows(opts: Record<string, unknown>): Promise<{ rev: string; flows: FlowNode[] }>;
  addFlow(opts: { flow: { label: string; info: string; env: NewTab['env']; nodes: FlowNode[] } }): Promise<string>;
  deleteFlow(opts: { id: string }): Promise<void>;
}

export interface SourcesDeps {
  /** Node-RED's flows, or null while it is not running. */
  flows: () => FlowsApi | null;
  /** What a test capture needs: ffmpeg, the media folder, the browser pool. */
  handles: () => GlimpserHandles;
  log: Logger;
  /** Where the templates are (default flows/templates of the package). */
  templatesDir?: string;
  /** How long a test waits for its one picture (default 20 s). */
  testDeadlineMs?: number;
}

const FieldsBody = Type.Object(Object.fromEntries(FIELD_KEYS.map((key) => [key, Type.Optional(Type.String({ maxLength: 4096 }))])), {
  additionalProperties: false,
  description: 'The values of the fields the template asks for.',
});
const SourceBody = Type.Object(
  { template: Type.String({ minLength: 1, maxLength: 32, description: 'A template id from GET /api/sources/templates.' }), fields: FieldsBody },
  { additionalProperties: false },
);

const TemplateSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  cameraKind: Type.String({ description: 'The glimpser-camera source the template makes.' }),
  fields: Type.Array(
    Type.Object({
      key: Type.String(),
      label: Type.String(),
      kind: Type.String({ description: 'text, url, path or password.' }),
      required: Type.Boolean(),
      maxLength: Type.Integer(),
      schemes: Type.Optional(Type.Array(Type.String())),
      placeholder: Type.Optional(Type.String()),
      help: Type.Optional(Type.String()),
    }),
  ),
});

const AddedSource = Type.Object({
  id: Type.String({ description: 'The flow tab id (the editor shows it in the tab).' }),
  label: Type.String(),
  template: Type.String(),
  camera: Type.Union([Type.String(), Type.Null()], { description: 'The camera id, null when the tab no longer holds a camera.' }),
  disabled: Type.Boolean(),
});

const TabId = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', expected: 'a flow tab id' }) });

export function sourceRoutes(deps: SourcesDeps): Route[] {
  const templates = loadTemplates(deps.templatesDir ?? path.join(PACKAGE_ROOT, 'flows', 'templates'));
  const byId = new Map(templates.map((t) => [t.id, t]));
  const deadlineMs = deps.testDeadlineMs ?? 20000;
  let testsRunning = 0;

  const templateOf = (id: string): SourceTemplate => {
    const template = byId.get(id);
    if (!template) throw new HttpError(400, 'invalid_request', `template: no template "${id.slice(0, 32)}"; expected one of ${[...byId.keys()].join(', ')}`);
    return template;
  };
  const checked = (req: Request): { template: SourceTemplate; fields: ReturnType<typeof checkFields> } => {
    const body = req.body as { template: string; fields: Record<string, string> };
    const template = templateOf(body.template);
    try {
      return { template, fields: checkFields(template, body.fields) };
    } catch (err) {
      if (err instanceof FieldError) throw new HttpError(400, 'invalid_request', err.message);
      throw err;
    }
  };
  const flows = (): FlowsApi => {
    const api = deps.flows();
    if (!api) throw new HttpError(503, 'not_configured', 'Node-RED is not running yet: try again in a moment', { 'Retry-After': '5' });
    return api;
  };
  const listed = (all: FlowNode[]) =>
    all
      .filter((n) => n.type === 'tab' && templateIdOf(n) !== undefined)
      .map((tab) => ({
        id: tab.id,
        label: String(tab.label ?? ''),
        template: templateIdOf(tab)!,
        camera: (all.find((n) => n.type === 'glimpser-camera' && n.z === tab.id)?.cameraId as string | undefined) ?? null,
        disabled: tab.disabled === true,
      }));

  return [
    {
      method: 'get',
      path: '/sources/templates',
      operationId: 'listSourceTemplates',
      summary: 'The source templates and the fields each asks for',
      tags: ['sources'],
      access: 'admin',
      responses: { 200: { description: 'The templates, in file order.', schema: Type.Array(TemplateSchema) } },
      handler: (_req: Request, res: Response) => {
        res.json(templates.map(({ id, name, description, fields, camera }) => ({ id, name, description, cameraKind: camera.source, fields })));
      },
    },
    {
      method: 'post',
      path: '/sources/test',
      operationId: 'testSource',
      summary: 'Fetch one picture from a source before adding it',
      description:
        'Builds the camera the template would make, with the same capture code, and answers its first picture; or a problem whose detail says why ' +
        'there is none: "401 from the camera", DNS failure, connection refused, timeout, not a video, blocked by the URL policy. Nothing is saved.',
      tags: ['sources'],
      access: 'admin',
      body: { schema: SourceBody, limitBytes: 32 * 1024 },
      responses: {
        200: JpegResponse,
        400: { description: 'A field is wrong or the URL policy refuses the address; the detail names the field.' },
        422: { description: 'This kind of source cannot be tested before it is added (an edge device).' },
        429: { description: 'Two tests are already running.' },
        502: { description: 'The source gave no picture; the detail says why.' },
      },
      handler: async (req: Request, res: Response) => {
        const { template, fields } = checked(req);
        if (testsRunning >= 2)
          throw new HttpError(429, 'too_many_requests', 'two source tests are already running: wait for one to finish', { 'Retry-After': '5' });
        testsRunning += 1;
        try {
          const jpeg = await probeSource(template, fields, { handles: deps.handles(), deadlineMs });
          res.status(200).type('image/jpeg').setHeader('Cache-Control', 'no-store').send(jpeg);
        } catch (err) {
          if (err instanceof FieldError) throw new HttpError(400, 'invalid_request', err.message);
          if (err instanceof ProbeFailure) {
            deps.log.info({ template: template.id, kind: err.kind, user: req.user?.username }, 'source test found no picture');
            throw new HttpError(
              err.status,
              err.status === 502 ? 'no_frame' : 'invalid_request',
              err.status === 400 ? `fields.url: ${err.message}` : err.message,
            );
          }
          throw err;
        } finally {
          testsRunning -= 1;
        }
      },
    },
    {
      method: 'post',
      path: '/sources',
      operationId: 'addSource',
      summary: 'Add a source: a new flow tab made from a template',
      description: "The tab is deployed at once. The username and password go into the camera node's credentials (encrypted), never into the flow.",
      tags: ['sources'],
      access: 'admin',
      body: { schema: SourceBody, limitBytes: 32 * 1024 },
      responses: { 201: { description: 'The new tab.', schema: AddedSource }, 400: { description: 'A field is wrong; the detail names it.' } },
      handler: async (req: Request, res: Response) => {
        const { template, fields } = checked(req);
        const api = flows();
        const { flows: all } = await api.getFlows({});
        const taken = new Set(all.filter((n) => n.type === 'glimpser-camera').map((n) => String(n.cameraId)));
        const cameraId = cameraIdFor(fields.name ?? template.name, taken);
        const sharedAi = all.find((n) => n.type === 'glimpser-ai' && !n.z)?.id;
        const tab = instantiateTemplate(template, fields, { cameraId, sharedAi, newId: () => randomBytes(8).toString('hex') });
        const id = await api.addFlow({ flow: tab });
        deps.log.info({ tab: id, template: template.id, camera: cameraId, user: req.user?.username }, 'source added from a template');
        res.status(201).json({ id, label: tab.label, template: template.id, camera: cameraId, disabled: false });
      },
    },
    {
      method: 'get',
      path: '/sources',
      operationId: 'listSources',
      summary: 'The flow tabs made from source templates',
      tags: ['sources'],
      access: 'admin',
      responses: { 200: { description: 'The tabs, in flow order.', schema: Type.Array(AddedSource) } },
      handler: async (_req: Request, res: Response) => {
        res.json(listed((await flows().getFlows({})).flows));
      },
    },
    {
      method: 'delete',
      path: '/sources/{id}',
      operationId: 'removeSource',
      summary: 'Remove a flow tab made from a source template',
      description: "Only tabs made from a template can be removed here; every other tab is the editor's.",
      tags: ['sources'],
      access: 'admin',
      params: TabId,
      responses: { 204: { description: 'Removed (its nodes are stopped).' }, 404: { description: 'No tab with this id was made from a template.' } },
      handler: async (req: Request, res: Response) => {
        const api = flows();
        const { id } = req.params;
        if (!listed((await api.getFlows({})).flows).some((s) => s.id === id))
          throw notFound(`no source "${id}": no flow tab with this id was made from a template`);
        await api.deleteFlow({ id });
        deps.log.info({ tab: id, user: req.user?.username }, 'source removed');
        res.status(204).end();
      },
    },
  ];
}

function templateIdOf(tab: FlowNode): string | undefined {
  const env = Array.isArray(tab.env) ? (tab.env as Array<{ name?: unknown; value?: unknown }>) : [];
  const marker = env.find((e) => e.name === TEMPLATE_ENV);
  return typeof marker?.value === 'string' ? marker.value : undefined;
}

/** The source routes on their own router, with their error answers (for tests and embedding). */
export function sourcesRouter(deps: SourcesDeps & { auth: RouteAuth }): Router {
  return routerOf(sourceRoutes(deps), deps.auth).use(apiErrors(deps.log, 'source request failed'));
}
