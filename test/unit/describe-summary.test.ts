import { OpenAIVisionProvider } from '../../core/describe/openai-provider';
import { parseSummaryReply } from '../../core/describe/reply';
import {
  itemFromEvent,
  itemFromMessage,
  mergeItems,
  renderSummaryPrompt,
  SUMMARY_SYSTEM_PROMPT,
  SummaryWindow,
  type SummaryItem,
} from '../../core/describe/summary';
import { DescribeError } from '../../core/describe/vision';
import { OpenAIServer } from '../support/openai-server';

const T0 = Date.parse('2024-05-06T12:00:00Z');
const MIN = 60_000;
const GOOD = { summary: 'Quiet hour; one delivery at the porch.', sources: [{ camera: 'porch', brief: 'A parcel was delivered.', severity: 'low' }] };

const item = (camera: string, at: number, caption?: string): SummaryItem => ({ key: `caption:${camera}:${at}`, camera, at, type: 'caption', caption });

describe('summary items from messages and journal events', () => {
  it('takes a caption from msg.ai with the frame camera and time', () => {
    const got = itemFromMessage({ ai: { caption: 'A cat', severity: 'low' }, frame: { camera: 'yard', timestamp: T0 } }, 0);
    expect(got).toEqual({ key: `caption:yard:${T0}`, camera: 'yard', at: T0, type: 'caption', caption: 'A cat', severity: 'low' });
  });

  it('gives a motion node event and its journal copy the same key, so they count once', () => {
    const fromMsg = itemFromMessage(
      { event: { key: 'k', phase: 'start', camera: 'porch', type: 'motion', startTime: T0, zones: ['door'] }, ai: { caption: 'A person', severity: 'medium' } },
      0,
    )!;
    const fromJournal = itemFromEvent({ camera: 'porch', type: 'motion', subtype: null, startTime: T0, zones: ['door'], data: {} });
    expect(fromMsg.key).toBe(fromJournal.key);
    expect(mergeItems([fromMsg], [fromJournal])).toEqual([expect.objectContaining({ caption: 'A person', severity: 'medium', zones: ['door'] })]);
  });

  it('ignores messages with neither msg.ai nor msg.event, and skipped descriptions', () => {
    expect(itemFromMessage({ payload: 1 }, 0)).toBeNull();
    expect(itemFromMessage({ ai: { skipped: 'budget' } }, 0)).toBeNull();
  });
});

describe('SummaryWindow', () => {
  it('keeps at most maxItems, dropping and counting the oldest', () => {
    const window = new SummaryWindow(3, T0);
    for (let i = 0; i < 5; i++) window.add(item('porch', T0 + i * MIN, `c${i}`));
    const taken = window.take(T0 + 60 * MIN);
    expect(taken.items.map((i) => i.caption)).toEqual(['c2', 'c3', 'c4']);
    expect(taken).toMatchObject({ start: T0, end: T0 + 60 * MIN, dropped: 2 });
    expect(window.size).toBe(0);
    expect(window.start).toBe(T0 + 60 * MIN);
  });

  it('updates an item seen twice in place and keeps fields the later copy lacks', () => {
    const window = new SummaryWindow(10, T0);
    window.add({ ...item('porch', T0, 'A person'), key: 'event:x' });
    window.add({ key: 'event:x', camera: 'porch', at: T0, type: 'motion' });
    expect(window.take(T0 + MIN).items).toEqual([{ key: 'event:x', camera: 'porch', at: T0, type: 'motion', caption: 'A person' }]);
  });

  it('puts back a window that was not summarised, ahead of what arrived since', () => {
    const window = new SummaryWindow(10, T0);
    window.add(item('porch', T0 + MIN, 'old'));
    const taken = window.take(T0 + 2 * MIN);
    window.add(item('porch', T0 + 3 * MIN, 'new'));
    window.restore(taken);
    expect(window.start).toBe(T0);
    expect(window.take(T0 + 4 * MIN).items.map((i) => i.caption)).toEqual(['old', 'new']);
  });

  it('refuses a bound that is not a whole number', () => {
    expect(() => new SummaryWindow(0, T0)).toThrow('maxItems 0 is invalid');
  });
});

describe('renderSummaryPrompt', () => {
  const prompt = renderSummaryPrompt({
    start: T0,
    end: T0 + 60 * MIN,
    items: [
      item('yard', T0 + 30 * MIN, 'A fox'),
      { key: 'e', camera: 'porch', at: T0 + 5 * MIN, type: 'tamper', subtype: 'covered', severity: 'high' },
      item('porch', T0 + 2 * MIN, 'A courier'),
    ],
    dropped: 4,
    previous: [
      { start: T0 - 60 * MIN, end: T0, summary: 'Newest.' },
      { start: T0 - 120 * MIN, end: T0 - 60 * MIN, summary: 'Oldest.' },
    ],
    timeZone: 'Europe/Paris',
    notes: 'Deliveries come in the morning.',
  });

  it('groups the items by camera, oldest first, with times in the time zone', () => {
    expect(prompt).toContain('Window: Monday 2024-05-06 14:00:00 GMT+2 (Europe/Paris) to Monday 2024-05-06 15:00:00 GMT+2 (Europe/Paris).');
    expect(prompt).toContain('3 items (4 older items were dropped to keep the window bounded), grouped by camera:');
    expect(prompt).toContain(
      'Camera "porch" (2 items):\n- 14:02:00 description: A courier\n- 14:05:00 tamper (covered) event [high]\n\nCamera "yard" (1 item):\n- 14:30:00 description: A fox',
    );
    expect(prompt).toContain('Deliveries come in the morning.');
  });

  it('ends with the previous summaries as context, oldest first', () => {
    expect(prompt).toMatch(
      /Previous summaries, oldest first:\n- Monday 2024-05-06 12:00:00 GMT\+2 \(Europe\/Paris\) to 13:00: Oldest\.\n- Monday 2024-05-06 13:00:00 .* to 14:00: Newest\.$/,
    );
  });
});

describe('parseSummaryReply', () => {
  it('accepts the contract, fenced or not, and drops extra keys', () => {
    expect(parseSummaryReply(`\`\`\`json\n${JSON.stringify({ ...GOOD, mood: 'calm' })}\n\`\`\``)).toEqual({ ok: true, reply: GOOD });
  });

  it.each([
    ['not JSON', 'Everything was quiet.', /reply is not JSON/],
    ['a missing field', JSON.stringify({ summary: 'x' }), /reply field "sources" must have required property 'sources'/],
    ['a summary over 1500 characters', JSON.stringify({ ...GOOD, summary: 'x'.repeat(1501) }), /reply field "summary" must NOT have more than 1500 characters/],
    [
      'an unknown severity',
      JSON.stringify({ ...GOOD, sources: [{ camera: 'porch', brief: 'b', severity: 'urgent' }] }),
      /reply field "sources.0.severity" .*\(expected "low", "medium", "high" or "critical"\)/,
    ],
  ])('names the problem with %s', (_name, content, problem) => {
    const parsed = parseSummaryReply(content);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.problem).toMatch(problem);
  });
});

describe('OpenAIVisionProvider.summarize', () => {
  let server: OpenAIServer;
  let provider: OpenAIVisionProvider | null = null;

  beforeEach(async () => {
    server = await OpenAIServer.start();
  });

  afterEach(async () => {
    provider?.close();
    await server.close();
  });

  const make = (budget = {}) =>
    (provider = new OpenAIVisionProvider({ baseURL: server.baseURL, apiKey: 'k', model: 'gpt-4o-mini', timeoutMs: 3000, retryBackoffMs: 10, budget }));

  it('sends a text-only request with the summary contract and returns the brief', async () => {
    server.script({ kind: 'content', content: JSON.stringify(GOOD) });
    const outcome = await make().summarize({ prompt: 'Window: …' });
    expect(outcome).toMatchObject({ ...GOOD, model: 'gpt-4o-mini', tokens: { prompt: 120, completion: 20, total: 140 } });
    expect(server.requests[0]).toMatchObject({
      system: SUMMARY_SYSTEM_PROMPT,
      user: 'Window: …',
      image: null,
      body: { response_format: { type: 'json_object' } },
    });
    expect(server.requests[0].body.messages[1].content).toBe('Window: …');
  });

  it('asks once more after a malformed reply, then reports the second one', async () => {
    server.script({ kind: 'content', content: 'not json' }, { kind: 'content', content: JSON.stringify(GOOD) });
    await expect(make().summarize({ prompt: 'p' })).resolves.toMatchObject({ summary: GOOD.summary, tokens: { total: 280 } });
    server.script({ kind: 'content', content: '{"summary": "", "sources": []}' }, { kind: 'content', content: '[]' });
    const failure = provider!.summarize({ prompt: 'p' });
    await expect(failure).rejects.toThrow(DescribeError);
    await expect(failure).rejects.toThrow(
      /sent a malformed reply twice; the last: reply is JSON but not an object .* \(first: reply field "summary" must NOT have fewer than 1 characters\)/,
    );
    expect(server.requests).toHaveLength(4);
  });

  it('shares the budget with descriptions and sends nothing once it is spent', async () => {
    server.script({ kind: 'content', content: JSON.stringify(GOOD) });
    make({ requestsPerHour: 1 });
    await provider!.summarize({ prompt: 'p' });
    await expect(provider!.summarize({ prompt: 'p' })).resolves.toMatchObject({ skipped: 'budget', reason: '1 requests per hour spent' });
    expect(server.requests).toHaveLength(1);
  });

  it('pauses after a 429 and does not ask again while paused', async () => {
    server.script({ kind: 'status', status: 429, headers: { 'retry-after': '60' } });
    make();
    await expect(provider!.summarize({ prompt: 'p' })).resolves.toMatchObject({ skipped: 'rate_limited' });
    await expect(provider!.summarize({ prompt: 'p' })).resolves.toMatchObject({ skipped: 'rate_limited' });
    expect(server.requests).toHaveLength(1);
  });

  it('turns a refusing summary into a skip, never a brief', async () => {
    server.script({ kind: 'content', content: JSON.stringify({ ...GOOD, summary: "I'm sorry, I can't help with that." }) });
    await expect(make().summarize({ prompt: 'p' })).resolves.toMatchObject({ skipped: 'refused' });
  });
});
