import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import { ManualClock } from '../../core/jobs/manual-clock';
import { Scheduler } from '../../core/jobs/scheduler';
import { JobStore } from '../../core/jobs/store';
import { silentLogger } from '../../core/log/logger';
import type { EventJournal } from '../../core/store/journal';
import aiSummaryNode from '../../nodes/ai-summary/ai-summary';
import { aiSummaryConfigFrom } from '../../nodes/ai-summary/schema';
import glimpserAiNode from '../../nodes/glimpser-ai/glimpser-ai';
import type { GlimpserHandles } from '../../nodes/shared/handles';
import type { EmbeddedBroker } from '../../runtime/broker';
import { summariesRouter } from '../../runtime/api/summaries';
import { signedInAs } from '../support/api-auth';
import { collect, loggedErrors, recordStatuses } from '../support/flow';
import { glimpserHandlesWithJournal, helper, type HandlesWithJournal, type FlowNode } from '../support/node-red-helper';
import { OpenAIServer } from '../support/openai-server';
import { eventually } from '../support/tools';
import { expectProblem } from '../support/problem';

const MIN = 60_000;
const BRIEF = {
  summary: 'A courier delivered a parcel at the porch; a fox crossed the yard.',
  sources: [
    { camera: 'porch', brief: 'Parcel delivered.', severity: 'low' },
    { camera: 'yard', brief: 'A fox.', severity: 'low' },
  ],
};

const caption = (camera: string, timestamp: number, text: string) => ({
  payload: Buffer.from([0xff, 0xd8]),
  frame: { camera, timestamp },
  ai: { caption: text, severity: 'low' },
});

describe('ai-summary node', () => {
  let broker: EmbeddedBroker;
  let handles: GlimpserHandles;
  let journal: EventJournal;
  let server: OpenAIServer;

  const flow = (ai: Record<string, unknown>, summary: Record<string, unknown> = {}): FlowNode[] => [
    { id: 'provider', type: 'glimpser-ai', baseUrl: server.baseURL, model: 'gpt-4o-mini', timeout: 5, ...ai },
    { id: 'summary', type: 'ai-summary', ai: 'provider', schedule: '', timeZone: 'Europe/Paris', wires: [['out']], ...summary },
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

  it('summarises the window grouped by camera with the previous summaries, and stores, publishes and sends the brief', async () => {
    const now = Date.now();
    journal.insert({
      camera: 'hq',
      type: 'summary',
      startTime: now - 70 * MIN,
      endTime: now - 10 * MIN,
      data: { summary: 'Earlier: the gate was left open.', sources: [] },
    });
    // Stored by another flow: the node reads it from the journal though it never passed through.
    journal.insert({ camera: 'yard', type: 'motion', startTime: now - 5 * MIN, data: { ai: { caption: 'A fox crosses the lawn', severity: 'low' } } });
    await helper.load([glimpserAiNode, aiSummaryNode], flow({}, { source: 'hq' }), { provider: { apiKey: 'sk-summary' } });
    const out = collect('out');
    const retained: string[] = [];
    const events: string[] = [];
    await broker.subscribe('glimpser/summaries', (_t, payload) => retained.push(payload.toString()));
    await broker.subscribe('glimpser/events', (_t, payload) => events.push(payload.toString()));
    server.script({ kind: 'content', content: JSON.stringify(BRIEF) });
    const node = helper.getNode('summary');
    node.receive(caption('porch', now - 3 * MIN, 'A courier leaves a parcel'));
    node.receive({ event: { key: 'm1', phase: 'start', camera: 'porch', type: 'motion', startTime: now - 2 * MIN, zones: ['door'] } });
    node.receive({ event: { key: 'm1', phase: 'end', camera: 'porch', type: 'motion', startTime: now - 2 * MIN, endTime: now - MIN, zones: ['door'] } });
    node.receive({ topic: 'summarize' });
    await eventually(async () => (out.length === 1 ? true : undefined), 5000, 'the summary');

    const user = server.requests[0].user;
    expect(server.requests[0].authorization).toBe('Bearer sk-summary');
    expect(user).toMatch(
      /3 items, grouped by camera:\n\nCamera "porch" \(2 items\):\n- \d\d:\d\d:\d\d description \[low\]: A courier leaves a parcel\n- \d\d:\d\d:\d\d motion event in door\n\nCamera "yard" \(1 item\):\n- \d\d:\d\d:\d\d motion event \[low\]: A fox crosses the lawn/,
    );
    expect(user).toMatch(/Previous summaries, oldest first:\n- .*\(Europe\/Paris\) to \d\d:\d\d: Earlier: the gate was left open\.$/);
    expect(out[0].payload).toBe(BRIEF.summary);
    const summary = out[0].summary as { id: string; camera: string; type: string; startTimeMs: number; endTimeMs: number; data: Record<string, unknown> };
    expect(summary).toMatchObject({
      camera: 'hq',
      type: 'summary',
      startTimeMs: now - 10 * MIN,
      data: { summary: BRIEF.summary, sources: BRIEF.sources, items: 3, model: 'gpt-4o-mini', tokens: { total: 140 } },
    });
    expect(journal.get(summary.id)).toMatchObject({ type: 'summary', endTime: summary.endTimeMs, data: { items: 3 } });
    await eventually(async () => (retained.length === 1 ? true : undefined), 3000, 'glimpser/summaries');
    expect(JSON.parse(retained[0])).toEqual(summary);
    await eventually(
      async () => (events.some((e) => (JSON.parse(e) as { after: { id: string } }).after.id === summary.id) ? true : undefined),
      3000,
      'glimpser/events',
    );
  });

  it('closes the window on its cron schedule', async () => {
    server.script({ kind: 'content', content: JSON.stringify(BRIEF) });
    await helper.load([glimpserAiNode, aiSummaryNode], flow({}, { source: 'cron', schedule: '* * * * * *', fromJournal: false }), {
      provider: { apiKey: 'k' },
    });
    const out = collect('out');
    helper.getNode('summary').receive(caption('porch', Date.now(), 'A courier'));
    await eventually(async () => (out.length === 1 ? true : undefined), 5000, 'a scheduled summary');
    expect(out[0]).toMatchObject({ topic: 'summary', payload: BRIEF.summary });
  });

  it('runs its schedule as an ai-summary job: listed with its next window, run-now closes the window and the run keeps what came of it', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12, 0));
    const store = JobStore.open(mkdtempSync(path.join(tmpdir(), 'glimpser-summary-jobs-')), undefined, clock.now());
    const scheduler = new Scheduler({ store, clock });
    handles.jobs = scheduler;
    try {
      server.script({ kind: 'content', content: JSON.stringify(BRIEF) });
      await helper.load([glimpserAiNode, aiSummaryNode], flow({}, { source: 'jobs', schedule: '0 18 * * *', fromJournal: false }), {
        provider: { apiKey: 'k' },
      });
      expect(scheduler.list({ kind: 'ai-summary' })).toEqual([
        expect.objectContaining({
          id: 'ai-summary.summary',
          owner: 'summary',
          schedule: { kind: 'cron', expression: '0 18 * * *', timeZone: 'Europe/Paris' },
          nextRuns: expect.arrayContaining([Date.UTC(2026, 0, 1, 17, 0)]),
        }),
      ]);
      const out = collect('out');
      const seen = recordStatuses('summary');
      helper.getNode('summary').receive(caption('porch', Date.now(), 'A courier'));
      await eventually(async () => (seen.some((s) => /^1 items since/.test(String(s.text))) ? true : undefined), 3000, 'the caption in the window');
      const run = await scheduler.runNow('ai-summary.summary');
      expect(run).toMatchObject({ trigger: 'manual', outcome: 'ok', output: expect.stringMatching(/^summary of /) });
      await eventually(async () => (out.length === 1 ? true : undefined), 3000, 'the summary message');
      expect(out[0]).toMatchObject({ topic: 'summary', payload: BRIEF.summary });
    } finally {
      await helper.unload();
      delete handles.jobs;
      await scheduler.close();
      store.close();
    }
  });

  it('skips with a status and sends no request when not configured, over budget, or with nothing to summarise', async () => {
    await helper.load([glimpserAiNode, aiSummaryNode], flow({ baseUrl: 'https://api.openai.com/v1' }, { source: 'none' }));
    let seen = recordStatuses('summary');
    helper.getNode('summary').receive(caption('porch', Date.now(), 'A courier'));
    helper.getNode('summary').receive({ topic: 'summarize' });
    await eventually(async () => (seen.length >= 2 ? true : undefined), 3000, 'a status');
    expect(seen.at(-1)).toEqual({ fill: 'blue', shape: 'ring', text: 'not configured — nothing is sent' });
    await helper.unload();

    server.script({ kind: 'content', content: JSON.stringify(BRIEF) });
    await helper.load([glimpserAiNode, aiSummaryNode], flow({ requestsPerHour: 1 }, { source: 'budget', fromJournal: false }), { provider: { apiKey: 'k' } });
    seen = recordStatuses('summary');
    const out = collect('out');
    const node = helper.getNode('summary');
    node.receive({ topic: 'summarize' });
    await eventually(async () => (seen.some((s) => String(s.text).startsWith('skipped: nothing since')) ? true : undefined), 3000, 'nothing to summarise');
    node.receive(caption('porch', Date.now(), 'A courier'));
    node.receive({ topic: 'summarize' });
    await eventually(async () => (out.length === 1 ? true : undefined), 5000, 'the first summary');
    node.receive(caption('porch', Date.now(), 'Another courier'));
    node.receive({ topic: 'summarize' });
    await eventually(async () => (String(seen.at(-1)?.text).startsWith('skipped: budget') ? true : undefined), 3000, 'the budget status');
    expect(seen.at(-1)).toMatchObject({ fill: 'grey', shape: 'ring', text: expect.stringMatching(/^skipped: budget spent until \d\d:\d\d$/) });
    expect(server.requests).toHaveLength(1);
    expect(out).toHaveLength(1);
  });

  it('reports a reply that is malformed twice with node.error and a red status', async () => {
    server.script({ kind: 'content', content: 'Nothing happened.' }, { kind: 'content', content: '{"summary": "x"}' });
    await helper.load([glimpserAiNode, aiSummaryNode], flow({}, { source: 'broken', fromJournal: false }), { provider: { apiKey: 'k' } });
    const seen = recordStatuses('summary');
    helper.getNode('summary').receive(caption('porch', Date.now(), 'A courier'));
    helper.getNode('summary').receive({ topic: 'summarize' });
    await eventually(async () => (loggedErrors('summary').length === 1 ? true : undefined), 5000, 'an error');
    expect(loggedErrors('summary')[0]).toMatch(/sent a malformed reply twice; the last: reply field "sources"/);
    expect(seen.at(-1)).toMatchObject({ fill: 'red', shape: 'dot' });
  });

  it('fails a message of the wrong shape naming the field, lets a skipped description go, and collects the next good one', async () => {
    server.script({ kind: 'content', content: JSON.stringify(BRIEF) });
    await helper.load([glimpserAiNode, aiSummaryNode], flow({}, { source: 'shape', fromJournal: false }), { provider: { apiKey: 'k' } });
    const seen = recordStatuses('summary');
    const out = collect('out');
    const node = helper.getNode('summary');
    node.receive({ ai: { caption: 7 } });
    node.receive({ event: { camera: 'porch', type: 'motion', startTime: Date.now(), zones: 'door' } });
    node.receive({ frame: { camera: 'porch', timestamp: Date.now() }, ai: { skipped: 'budget', reason: 'spent' } });
    node.receive({ payload: 'hello' });
    await eventually(async () => (loggedErrors('summary').length === 3 ? true : undefined), 5000, 'three errors');
    const errors = loggedErrors('summary');
    expect(errors.some((e) => /msg\.ai: expected a description from ai-describe .*got \{"caption":7\}/.test(e))).toBe(true);
    expect(errors.some((e) => /msg\.event\.zones: expected a list of zone names, got "door"/.test(e))).toBe(true);
    expect(errors.some((e) => /ai-summary needs msg\.ai/.test(e))).toBe(true);
    expect(seen).toContainEqual({ fill: 'red', shape: 'dot', text: expect.stringMatching(/^msg\.ai: expected a description/) });
    node.receive(caption('porch', Date.now(), 'A courier'));
    node.receive({ topic: 'summarize' });
    await eventually(async () => (out.length === 1 ? true : undefined), 5000, 'the summary');
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0].user).toMatch(/1 items, grouped by camera:\n\nCamera "porch" \(1 item\):\n- \d\d:\d\d:\d\d description \[low\]: A courier$/);
  });

  it('names a wrong setting', async () => {
    await helper.load([glimpserAiNode, aiSummaryNode], [{ id: 'summary', type: 'ai-summary', schedule: 'every hour', wires: [[]] }] as FlowNode[]);
    expect(loggedErrors('summary').join('\n')).toMatch(/ai-summary setting "schedule": cron expression "every hour" is invalid/);
  });

  it('accepts the settings of the example flow', () => {
    const example = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'examples', 'ai-summary', '01-hourly-brief.json'), 'utf8')) as FlowNode[];
    const nodes = example.filter((n) => n.type === 'ai-summary');
    expect(nodes).toHaveLength(1);
    expect(aiSummaryConfigFrom(nodes[0])).toMatchObject({ schedule: '0 * * * *', timeZone: 'Europe/Paris', previous: 3 });
  });

  describe('GET /summaries', () => {
    let api: Server;
    let base: string;

    beforeAll(async () => {
      const app = express();
      app.use('/api', summariesRouter({ journal, log: silentLogger, auth: signedInAs('viewer') }));
      api = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => api.once('listening', resolve));
      base = `http://127.0.0.1:${(api.address() as AddressInfo).port}/api`;
    });

    afterAll(async () => {
      api.closeAllConnections();
      await new Promise((resolve) => api.close(resolve));
    });

    const get = async (query: string) => {
      const res = await fetch(`${base}/summaries${query}`);
      return {
        status: res.status,
        headers: res.headers,
        body: (await res.json()) as { summaries: Array<Record<string, unknown>>; next: string | null },
      };
    };

    it('lists summaries newest first with their text and sources, in pages', async () => {
      const t = Date.parse('2030-01-01T00:00:00Z');
      for (let i = 0; i < 3; i++)
        journal.insert({
          camera: 'api',
          type: 'summary',
          startTime: t + i * 60 * MIN,
          endTime: t + (i + 1) * 60 * MIN,
          data: {
            summary: `hour ${i}`,
            sources: [{ camera: 'porch', brief: 'b', severity: 'low' }],
            items: i,
            model: 'm',
            tokens: { prompt: 1, completion: 1, total: 2 },
          },
        });
      journal.insert({ camera: 'porch', type: 'motion', startTime: t + 30 * MIN });
      const first = await get(`?from=2030-01-01&limit=2`);
      expect(first.status).toBe(200);
      expect(first.body.summaries).toEqual([
        {
          id: expect.any(String),
          source: 'api',
          startTime: '2030-01-01T02:00:00.000Z',
          startTimeMs: t + 120 * MIN,
          endTime: '2030-01-01T03:00:00.000Z',
          endTimeMs: t + 180 * MIN,
          summary: 'hour 2',
          sources: [{ camera: 'porch', brief: 'b', severity: 'low' }],
          items: 2,
          model: 'm',
          tokens: { prompt: 1, completion: 1, total: 2 },
        },
        expect.objectContaining({ summary: 'hour 1' }),
      ]);
      const second = await get(`?from=2030-01-01&limit=2&cursor=${first.body.next}`);
      expect(second.body.summaries.map((s) => s.summary)).toEqual(['hour 0']);
      expect(second.body.next).toBeNull();
      expect((await get(`?from=${t}&to=${t + 60 * MIN}`)).body.summaries.map((s) => s.summary)).toEqual(['hour 0']);
    });

    it.each([
      ['limit=0', /^limit: expected a whole number from 1 to 500/],
      ['from=yesterday', /^from: expected an ISO 8601 time or milliseconds/],
      ['to=2030-01-01T10:00', /^to: .*a date-time needs a zone/],
      ['from=2030-01-02&to=2030-01-01', /^from must be before to/],
      ['cursor=zzz', /^cursor: expected the "next" value of a previous page/],
      ['camera=porch', /^camera: unknown query parameter; expected one of from, to, limit, cursor/],
    ])('answers 400 naming the parameter for %s', async (query, message) => {
      expectProblem(await get(`?${query}`), 400, { code: 'invalid_request', detail: message });
    });
  });
});
