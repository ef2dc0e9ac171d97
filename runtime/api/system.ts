import { Type } from '@sinclair/typebox';
import type { Request, Response } from 'express';
import { register } from 'prom-client';
import type { CameraRegistry } from '../../core/capture/registry';
import { DEFAULT_PROMPT } from '../../core/describe/prompt';
import type { AiProviderRegistry, RegisteredProvider } from '../../core/describe/registry';
import { DescribeError, isSkipped, type DescribeOutcome } from '../../core/describe/vision';
import type { Logger } from '../../core/log/logger';
import { metrics } from '../../core/metrics';
import { ConfigSchema, SECRET_KEYS, type Config } from '../config';
import { mayUseCamera } from '../auth/roles';
import { HttpError, badRequest } from './errors';
import { principalOf, type Route } from './route';

/**
 * How Glimpser is doing and what it runs with, under /api:
 *
 * GET  /stats       (viewer)   per camera: state, fps, restarts, last frame, JPEG demand; per node type: messages, errors;
 *                              broker clients, journal and archive disk use, start phase times
 * GET  /config      (admin)    the effective configuration, secrets redacted
 * POST /ai/analyze  (operator) an uploaded JPEG → a description from a deployed glimpser-ai provider, within its
 *                              concurrency limit, budget and cache (the same object ai-describe nodes use)
 */
export interface SystemRoutesDeps {
  cameras: CameraRegistry;
  config: Config;
  ai?: AiProviderRegistry;
  log: Logger;
}

/** The largest JPEG POST /ai/analyze takes; ai-describe downscales to maxSide before sending anyway. */
export const ANALYZE_MAX_BYTES = 8 * 1024 * 1024;
const REDACTED = '[redacted]';

const CameraStats = Type.Object({
  camera: Type.String(),
  name: Type.String(),
  state: Type.String(),
  fps: Type.Number(),
  restarts: Type.Integer(),
  lastFrameAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  jpegDemand: Type.Union([Type.Boolean(), Type.Null()], { description: 'Whether JPEGs are wanted now (null: the source makes them always).' }),
});
const NodeStats = Type.Object({ type: Type.String(), messages: Type.Number(), errors: Type.Number() });
const SystemStats = Type.Object({
  mqttClients: Type.Integer({ description: 'MQTT clients connected to the embedded broker.' }),
  journalBytes: Type.Number({ description: 'Bytes of the event journal on disk (as its last size check found).' }),
  archiveBytes: Type.Number({ description: 'Bytes of archived frames on disk, all cameras.' }),
  startPhases: Type.Array(Type.Object({ phase: Type.String(), seconds: Type.Number() }), { description: 'Seconds each start phase took on the last start.' }),
});
const StatsResponse = Type.Object({ cameras: Type.Array(CameraStats), nodes: Type.Array(NodeStats), system: SystemStats });
const AnalyzeQuery = Type.Object(
  {
    provider: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'The glimpser-ai node id; optional when exactly one is deployed.' })),
    camera: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Named in the prompt as the camera (default "upload").' })),
  },
  { additionalProperties: false },
);
const AnalyzeResponse = Type.Object({
  provider: Type.String(),
  model: Type.String(),
  caption: Type.String(),
  description: Type.String(),
  severity: Type.String(),
  cached: Type.Boolean(),
});

/** Label values of one counter, by label `type` (prom-client keeps them; no second count is kept here). */
async function countsByType(name: string): Promise<Map<string, number>> {
  const values = (await register.getSingleMetric(name)?.get())?.values ?? [];
  return new Map(values.map((v) => [String(v.labels.type), v.value]));
}

/** Broker clients, disk use and start phases, read from the gauges /metrics exports (one source for both). */
async function systemStats(): Promise<{ mqttClients: number; journalBytes: number; archiveBytes: number; startPhases: { phase: string; seconds: number }[] }> {
  const [clients, journal, archive, phases] = await Promise.all([
    metrics.mqttClients.get(),
    metrics.eventJournalBytes.get(),
    metrics.archiveBytes.get(),
    metrics.startPhaseSeconds.get(),
  ]);
  const sum = (values: { value: number }[]) => values.reduce((total, v) => total + v.value, 0);
  return {
    mqttClients: sum(clients.values),
    journalBytes: sum(journal.values),
    archiveBytes: sum(archive.values),
    startPhases: phases.values.map((v) => ({ phase: String(v.labels.phase), seconds: v.value })),
  };
}

async function jpegDemandOf(camera: string): Promise<boolean | null> {
  const values = (await metrics.cameraJpegDemand.get()).values;
  const found = values.find((v) => v.labels.camera === camera);
  return found === undefined ? null : found.value === 1;
}

/** The configuration as start-up read it, each secret replaced by "[redacted]" (whether it was set stays visible). */
export function redactedConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.properties)) {
    const value = (config as Record<string, unknown>)[key];
    out[key] = SECRET_KEYS.includes(key) && value !== undefined ? REDACTED : value;
  }
  return { ...out, mediaDir: config.mediaDir };
}

function providerFor(ai: AiProviderRegistry | undefined, id: string | undefined): RegisteredProvider {
  const providers = ai?.list() ?? [];
  if (id !== undefined) {
    const found = ai?.get(id);
    if (!found)
      throw new HttpError(
        404,
        'not_found',
        `provider: no glimpser-ai node with id "${id}" is deployed; deployed: ${providers.map((p) => p.id).join(', ') || 'none'}`,
      );
    return found;
  }
  if (providers.length === 1) return providers[0];
  if (providers.length === 0) throw new HttpError(409, 'not_configured', 'no glimpser-ai node is deployed: add one to a flow and deploy it');
  throw badRequest(`provider: ${providers.length} glimpser-ai nodes are deployed; name one of ${providers.map((p) => p.id).join(', ')}`);
}

/** JPEG files start with SOI (FF D8) and a marker (FF xx): checked before the provider decodes anything. */
function looksLikeJpeg(bytes: Buffer): boolean {
  return bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

export function systemRoutes(deps: SystemRoutesDeps): Route[] {
  return [
    {
      method: 'get',
      path: '/stats',
      operationId: 'getStats',
      summary: 'Cameras and nodes at a glance',
      description:
        'Per camera (those the caller may see): state, frames per second, restarts, last frame, JPEG demand. Per Glimpser node type: messages taken in and messages failed since start.',
      tags: ['system'],
      access: 'viewer',
      responses: { 200: { description: 'The statistics.', schema: StatsResponse } },
      handler: async (req: Request, res: Response) => {
        const principal = principalOf(req);
        const cameras = await Promise.all(
          deps.cameras
            .list()
            .filter((camera) => mayUseCamera(principal, camera.id))
            .map(async (camera) => {
              const status = camera.status();
              return {
                camera: camera.id,
                name: camera.name,
                state: status.state,
                fps: status.fps,
                restarts: status.restarts,
                lastFrameAt: status.lastFrameAt === null ? null : new Date(status.lastFrameAt).toISOString(),
                lastError: status.lastError,
                jpegDemand: await jpegDemandOf(camera.id),
              };
            }),
        );
        const [messages, errors] = await Promise.all([countsByType('glimpser_node_messages_total'), countsByType('glimpser_node_errors_total')]);
        const types = [...new Set([...messages.keys(), ...errors.keys()])].sort();
        res.json({
          cameras,
          nodes: types.map((type) => ({ type, messages: messages.get(type) ?? 0, errors: errors.get(type) ?? 0 })),
          system: await systemStats(),
        });
      },
    },
    {
      method: 'get',
      path: '/config',
      operationId: 'getConfig',
      summary: 'The effective configuration',
      description: 'What start-up read from GLIMPSER_* variables and the config file, with defaults filled in; secrets are "[redacted]".',
      tags: ['system'],
      access: 'admin',
      responses: { 200: { description: 'The configuration.', schema: Type.Object({ config: Type.Record(Type.String(), Type.Unknown()) }) } },
      handler: (_req: Request, res: Response) => {
        res.json({ config: redactedConfig(deps.config) });
      },
    },
    {
      method: 'post',
      path: '/ai/analyze',
      operationId: 'analyzeImage',
      summary: 'Describe an uploaded JPEG with a deployed AI provider',
      description:
        'Sends the picture (the request body, image/jpeg) to a glimpser-ai provider with the default describe prompt, within that provider’s concurrency limit, request and token budget and cache. Answers 429 with Retry-After when the budget is spent or the provider asks to wait.',
      tags: ['ai'],
      access: 'operator',
      query: AnalyzeQuery,
      body: { schema: Type.Unknown({ description: 'A JPEG picture.' }), contentType: 'image/jpeg', limitBytes: ANALYZE_MAX_BYTES },
      responses: {
        200: { description: 'The description.', schema: AnalyzeResponse },
        404: { description: 'No such provider.' },
        409: { description: 'No provider is deployed, or it is not configured.' },
        422: { description: 'The model refused to describe the picture.' },
        429: { description: 'The provider’s budget is spent or it asked to wait (Retry-After says how long).' },
        502: { description: 'The provider failed.' },
      },
      handler: async (req: Request, res: Response) => {
        const body = req.body as unknown;
        if (!Buffer.isBuffer(body) || !looksLikeJpeg(body)) throw badRequest('body: expected a JPEG picture (it starts with FF D8 FF)');
        const query = req.query as { provider?: string; camera?: string };
        const provider = providerFor(deps.ai, query.provider);
        if (provider.service.notConfigured !== null) throw new HttpError(409, 'not_configured', `provider "${provider.id}": ${provider.service.notConfigured}`);
        const camera = query.camera ?? 'upload';
        let outcome: DescribeOutcome;
        try {
          outcome = await provider.service.describe({ jpeg: body, camera, template: DEFAULT_PROMPT, takenAt: Date.now() });
        } catch (err) {
          if (!(err instanceof DescribeError)) throw err;
          if (err.kind === 'image') throw badRequest(`body: ${err.message}`);
          throw new HttpError(502, 'provider_failed', `provider "${provider.id}": ${err.message}`);
        }
        if (isSkipped(outcome)) {
          const detail = `provider "${provider.id}" did not describe it (${outcome.skipped}): ${outcome.reason}`;
          // A refusal is the model's answer about this picture; budget and 429 pauses say when to come back.
          if (outcome.skipped === 'refused') throw new HttpError(422, 'refused', detail);
          const until = outcome.skipped === 'budget' ? outcome.resetsAt : outcome.until;
          throw new HttpError(429, 'too_many_requests', detail, { 'Retry-After': String(Math.max(1, Math.ceil((until - Date.now()) / 1000))) });
        }
        deps.log.info({ provider: provider.id, camera, user: principalOf(req).username, cached: outcome.cached }, 'image analysed through the API');
        res.json({
          provider: provider.id,
          model: provider.service.model,
          caption: outcome.caption,
          description: outcome.description,
          severity: outcome.severity,
          cached: outcome.cached,
        });
      },
    },
  ];
}
