import sharp from 'sharp';
import type { EventJournal } from '../../core/store/journal';
import aiDescribeNode from '../../nodes/ai-describe/ai-describe';
import glimpserAiNode from '../../nodes/glimpser-ai/glimpser-ai';
import type { GlimpserHandles } from '../../nodes/shared/handles';
import type { EmbeddedBroker } from '../../runtime/broker';
import { collect, loggedErrors, recordStatuses } from '../support/flow';
import { glimpserHandlesWithJournal, helper, type HandlesWithJournal, type FlowNode } from '../support/node-red-helper';
import { OpenAIServer } from '../support/openai-server';
import { eventually } from '../support/tools';

const scene = (personAt: number | null, width = 640, height = 360) =>
  sharp({ create: { width, height, channels: 3, background: '#506070' } })
    .composite([
      {
        input: Buffer.from(
          `<svg width="${width}" height="${height}"><rect width="${width / 3}" height="${height}" fill="#a0a0a0"/><rect x="${width * 0.6}" y="${height * 0.2}" width="${width * 0.3}" height="${height * 0.3}" fill="#202020"/></svg>`,
        ),
      },
      ...(personAt === null
        ? []
        : [
            {
              input: Buffer.from(`<svg width="${width / 4}" height="${height / 2}"><rect width="100%" height="100%" fill="#f0e000"/></svg>`),
              left: Math.round(personAt * width),
              top: Math.round(height / 3),
            },
          ]),
    ])
    .jpeg()
    .toBuffer();

const frameMsg = (jpeg: Buffer, camera = 'porch', timestamp = Date.parse('2024-05-06T12:30:00Z')) => ({
  payload: jpeg,
  frame: { camera, sequence: 1, timestamp, width: 640, height: 360, bytes: jpeg.length },
});

describe('glimpser-ai and ai-describe nodes', () => {
  let broker: EmbeddedBroker;
  let handles: GlimpserHandles;
  let journal: EventJournal;
  let server: OpenAIServer;

  const flow = (ai: Record<string, unknown>, describe: Record<string, unknown> = {}): FlowNode[] => [
    { id: 'provider', type: 'glimpser-ai', name: 'test model', baseUrl: server.baseURL, model: 'gpt-4o-mini', timeout: 5, ...ai },
    { id: 'describer', type: 'ai-describe', ai: 'provider', timeZone: 'Europe/Paris', notes: 'Deliveries come in the morning.', wires: [['out']], ...describe },
    { id: 'out', type: 'helper' },
  ];

  let context: HandlesWithJournal;

  beforeAll(async () => {
    context = await glimpserHandlesWithJournal();
    ({ broker, handles, journal } = context);
    helper.settings({ glimpser: handles });
  });

  beforeEach(async () => {
    server = await OpenAIServer.start();
  });

  afterEach(async () => {
    await helper.unload();
    await server.close();
  });

  afterAll(async () => {
    await context.close();
  });

  it('puts the caption on msg.ai and on the journal event named by msg.event.id, which glimpser/events publishes', async () => {
    await helper.load([glimpserAiNode, aiDescribeNode], flow({}), { provider: { apiKey: 'sk-node' } });
    const out = collect('out');
    const published: string[] = [];
    await broker.subscribe('glimpser/events', (_t, payload) => published.push(payload.toString()));
    const stored = journal.insert({ camera: 'porch', type: 'motion', startTime: Date.now(), data: { source: 'test' } });
    helper.getNode('describer').receive({ ...frameMsg(await scene(0.5)), event: { id: stored.id, camera: 'porch' } });
    await eventually(async () => (out.length === 1 ? true : undefined), 5000, 'described message');
    expect(out[0].ai).toMatchObject({
      caption: 'A person walks up the driveway',
      severity: 'medium',
      tags: ['person', 'package'],
      model: 'gpt-4o-mini',
      tokens: { total: 1060 },
      cached: false,
    });
    expect(Buffer.isBuffer(out[0].payload)).toBe(true);
    expect(journal.get(stored.id)!.data).toMatchObject({ source: 'test', ai: { caption: 'A person walks up the driveway', confidence: 0.82 } });
    expect(server.requests[0].authorization).toBe('Bearer sk-node');
    expect(server.requests[0].user).toContain('Camera "porch", picture taken Monday 2024-05-06 14:30:00 GMT+2 (Europe/Paris). Deliveries come in the morning.');
    const update = await eventually(
      async () =>
        published.map((p) => JSON.parse(p) as { type: string; after: { id: string; data: { ai?: { caption: string } } } }).find((m) => m.after.data.ai),
      3000,
      'the update on glimpser/events',
    );
    expect(update).toMatchObject({ type: 'update', after: { id: stored.id, data: { ai: { caption: 'A person walks up the driveway' } } } });
  });

  it('carries the description in msg.event.data.ai for an event not stored yet, and answers an unchanged scene from the cache', async () => {
    await helper.load([glimpserAiNode, aiDescribeNode], flow({}), { provider: { apiKey: 'sk-node' } });
    const out = collect('out');
    const still = await scene(null);
    helper.getNode('describer').receive({ ...frameMsg(still), event: { key: 'k1', phase: 'start', camera: 'porch', startTime: 1, data: { zone: 'door' } } });
    await eventually(async () => (out.length === 1 ? true : undefined), 5000, 'first');
    helper.getNode('describer').receive(frameMsg(still));
    await eventually(async () => (out.length === 2 ? true : undefined), 5000, 'second');
    helper.getNode('describer').receive(frameMsg(await scene(0.5)));
    await eventually(async () => (out.length === 3 ? true : undefined), 5000, 'third');
    expect((out[0].event as { data: unknown }).data).toMatchObject({ zone: 'door', ai: { caption: 'A person walks up the driveway' } });
    expect(out.map((m) => (m.ai as { cached: boolean }).cached)).toEqual([false, true, false]);
    expect(server.requests).toHaveLength(2);
  });

  it('passes frames through with the "not configured" status when OpenAI has no API key', async () => {
    await helper.load([glimpserAiNode, aiDescribeNode], flow({ baseUrl: 'https://api.openai.com/v1' }));
    const seen = recordStatuses('describer');
    const out = collect('out');
    helper.getNode('describer').receive(frameMsg(await scene(null)));
    await eventually(async () => (out.length === 1 ? true : undefined), 5000, 'passed through');
    expect(out[0].ai).toEqual({ skipped: 'not_configured', reason: expect.stringContaining('no API key for OpenAI') });
    expect(seen.at(-1)).toEqual({ fill: 'blue', shape: 'ring', text: 'not configured — frames pass through' });
  });

  it('skips with a grey status and sends no request once the budget is spent', async () => {
    await helper.load([glimpserAiNode, aiDescribeNode], flow({ requestsPerHour: 1 }), { provider: { apiKey: 'k' } });
    const seen = recordStatuses('describer');
    const out = collect('out');
    helper.getNode('describer').receive(frameMsg(await scene(null)));
    await eventually(async () => (out.length === 1 ? true : undefined), 5000, 'first');
    helper.getNode('describer').receive(frameMsg(await scene(0.5)));
    await eventually(async () => (out.length === 2 ? true : undefined), 5000, 'second');
    expect(out[1].ai).toMatchObject({ skipped: 'budget', resetsAt: expect.any(Number) });
    expect(server.requests).toHaveLength(1);
    expect(seen.at(-1)).toMatchObject({ fill: 'grey', shape: 'ring', text: expect.stringMatching(/^skipped: budget spent until \d\d:\d\d$/) });
  });

  it('shows a yellow "rate limited until" status after a 429 and passes frames through without asking again', async () => {
    server.script({ kind: 'status', status: 429, headers: { 'retry-after': '120' } });
    await helper.load([glimpserAiNode, aiDescribeNode], flow({}), { provider: { apiKey: 'k' } });
    const seen = recordStatuses('describer');
    const out = collect('out');
    helper.getNode('describer').receive(frameMsg(await scene(null)));
    helper.getNode('describer').receive(frameMsg(await scene(0.5)));
    await eventually(async () => (out.length === 2 ? true : undefined), 5000, 'both through');
    expect(out.map((m) => (m.ai as { skipped: string }).skipped)).toEqual(['rate_limited', 'rate_limited']);
    expect(server.requests).toHaveLength(1);
    expect(seen.at(-1)).toMatchObject({ fill: 'yellow', shape: 'ring', text: expect.stringMatching(/^rate limited until \d\d:\d\d:\d\d$/) });
  });

  it('never turns a refusal into a caption', async () => {
    server.script({ kind: 'refusal', refusal: "I'm sorry, I can't help with that." }, { kind: 'content', content: 'I cannot see the image.' });
    await helper.load([glimpserAiNode, aiDescribeNode], flow({}), { provider: { apiKey: 'k' } });
    const out = collect('out');
    helper.getNode('describer').receive(frameMsg(await scene(null)));
    helper.getNode('describer').receive(frameMsg(await scene(0.5)));
    await eventually(async () => (out.length === 2 ? true : undefined), 5000, 'both through');
    expect(out.map((m) => m.ai)).toEqual([
      { skipped: 'refused', reason: expect.stringContaining('refused') },
      { skipped: 'refused', reason: expect.stringContaining('declined') },
    ]);
  });

  it('fails a slow reply with a clear error and a red status', async () => {
    server.script({ kind: 'slow', delayMs: 3000 });
    await helper.load([glimpserAiNode, aiDescribeNode], flow({ timeout: 0.3 }), { provider: { apiKey: 'k' } });
    const seen = recordStatuses('describer');
    helper.getNode('describer').receive(frameMsg(await scene(null)));
    await eventually(async () => (loggedErrors('describer').length === 1 ? true : undefined), 5000, 'an error');
    expect(loggedErrors('describer')[0]).toMatch(/no reply from http:\/\/127\.0\.0\.1:\d+\/v1 \(model gpt-4o-mini\) within 300 ms/);
    expect(seen.at(-1)).toMatchObject({ fill: 'red', shape: 'dot' });
  });

  it('fails a message of the wrong shape naming the field, and describes the next good one', async () => {
    await helper.load([glimpserAiNode, aiDescribeNode], flow({}), { provider: { apiKey: 'k' } });
    const seen = recordStatuses('describer');
    const out = collect('out');
    const node = helper.getNode('describer');
    node.receive({ payload: 'not a picture', frame: { camera: 'porch', timestamp: 1 } });
    node.receive({ ...frameMsg(await scene(null)), frame: { camera: 'porch', timestamp: 'noon' } });
    node.receive({ ...frameMsg(await scene(null)), event: { id: 42, camera: 'porch' } });
    await eventually(async () => (loggedErrors('describer').length === 3 ? true : undefined), 5000, 'three errors');
    const errors = loggedErrors('describer');
    expect(errors.some((e) => /msg\.payload: expected a JPEG Buffer .*got "not a picture"/.test(e))).toBe(true);
    expect(errors.some((e) => /msg\.frame\.timestamp: expected the capture time in milliseconds since the epoch, got "noon"/.test(e))).toBe(true);
    expect(errors.some((e) => /msg\.event\.id: expected the id of a journal event \(text\), got 42/.test(e))).toBe(true);
    expect(seen).toContainEqual({ fill: 'red', shape: 'dot', text: expect.stringMatching(/^msg\.payload: expected a JPEG Buffer/) });
    expect(server.requests).toHaveLength(0);
    node.receive(frameMsg(await scene(0.5)));
    await eventually(async () => (out.length === 1 ? true : undefined), 5000, 'the good frame described');
    expect(out[0].ai).toMatchObject({ caption: 'A person walks up the driveway', cached: false });
    expect(seen.at(-1)).toEqual({ fill: 'green', shape: 'dot', text: 'porch: A person walks up the driveway' });
  });

  it("fails with the AI provider's wrong setting when the glimpser-ai node it picked cannot start", async () => {
    await helper.load([glimpserAiNode, aiDescribeNode], [
      { id: 'provider', type: 'glimpser-ai', baseUrl: 'http://localhost:11434/v1', model: '' },
      { id: 'describer', type: 'ai-describe', ai: 'provider', wires: [[]] },
    ] as FlowNode[]);
    expect(loggedErrors('describer').join('\n')).toMatch(/^ai: glimpser-ai setting "model" must NOT have fewer than 1 characters \(expected a model name/);
    helper.getNode('describer').receive(frameMsg(await scene(null)));
    await eventually(async () => (loggedErrors('describer').length === 2 ? true : undefined), 5000, 'the input refused');
    expect(loggedErrors('describer')[1]).toMatch(/ai-describe is not configured: ai: glimpser-ai setting "model"/);
  });

  it('names a wrong setting of either node', async () => {
    await helper.load([glimpserAiNode, aiDescribeNode], [
      { id: 'provider', type: 'glimpser-ai', baseUrl: 'ftp://example' },
      { id: 'describer', type: 'ai-describe', ai: 'provider', prompt: 'Look at {cam}', wires: [[]] },
    ] as FlowNode[]);
    expect(loggedErrors('provider').join('\n')).toMatch(/glimpser-ai setting "baseUrl" must match pattern .* \(expected an http\(s\) URL/);
    expect(loggedErrors('describer').join('\n')).toMatch(/prompt template uses \{cam\}/);
  });
});
