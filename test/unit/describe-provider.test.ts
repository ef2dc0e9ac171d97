import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { register } from 'prom-client';
import { OpenAIVisionProvider, type OpenAIVisionOptions } from '../../core/describe/openai-provider';
import { DEFAULT_PROMPT } from '../../core/describe/prompt';
import type { DescribeRequest } from '../../core/describe/vision';
import { OpenAIServer } from '../support/openai-server';

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

/** Random pixels: JPEG cannot compress them, so the picture stays large whatever the quality. */
const noise = (width: number, height: number) =>
  sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 95 })
    .toBuffer();

const takenAt = Date.parse('2024-05-06T12:30:00Z');

describe('OpenAIVisionProvider over the real openai SDK', () => {
  let server: OpenAIServer;
  let other: OpenAIServer;
  const providers: OpenAIVisionProvider[] = [];
  let now = takenAt;
  let still: Buffer;

  const provider = (options: Partial<OpenAIVisionOptions> = {}, on = server) => {
    const made = new OpenAIVisionProvider({
      baseURL: on.baseURL,
      apiKey: 'sk-test',
      model: 'gpt-4o-mini',
      timeoutMs: 5000,
      retryBackoffMs: 10,
      now: () => now,
      ...options,
    });
    providers.push(made);
    return made;
  };
  const request = (jpeg: Buffer, extra: Partial<DescribeRequest> = {}): DescribeRequest => ({
    jpeg,
    camera: 'porch',
    template: DEFAULT_PROMPT,
    notes: 'Parcels are left by the door.',
    timeZone: 'Europe/Paris',
    takenAt,
    ...extra,
  });

  beforeAll(async () => {
    still = await scene(null);
  });

  beforeEach(async () => {
    now = takenAt;
    server = await OpenAIServer.start();
    other = await OpenAIServer.start();
  });

  afterEach(async () => {
    for (const p of providers.splice(0)) p.close();
    await server.close();
    await other.close();
  });

  it('sends the picture as a data: URL JPEG part with the filled-in prompt and JSON mode, and returns the description', async () => {
    const result = await provider().describe(request(still));
    expect(result).toEqual({
      caption: 'A person walks up the driveway',
      description: expect.any(String),
      tags: ['person', 'package'],
      severity: 'medium',
      confidence: 0.82,
      model: 'gpt-4o-mini',
      tokens: { prompt: 1000, completion: 60, total: 1060 },
      latencyMs: expect.any(Number),
      cached: false,
    });
    const [sent] = server.requests;
    expect(sent.authorization).toBe('Bearer sk-test');
    expect(sent.body.response_format).toEqual({ type: 'json_object' });
    expect(sent.system).toMatch(/"severity": one of "low", "medium", "high", "critical"/);
    expect(sent.user).toBe(
      'Camera "porch", picture taken Monday 2024-05-06 14:30:00 GMT+2 (Europe/Paris). Parcels are left by the door.\nDescribe what is happening: people, vehicles, animals, and anything unusual or worth an alert.',
    );
    expect(sent.image).toMatchObject({ mime: 'image/jpeg', width: 640, height: 360 });
    expect(sent.image!.jpeg.equals(still)).toBe(true);
    expect(await register.getSingleMetricAsString('glimpser_ai_tokens_total')).toMatch(/glimpser_ai_tokens_total\{provider="gpt-4o-mini",kind="prompt"\} \d+/);
  });

  it('downscales a large picture to the max side before sending it, and refuses one that cannot fit the byte limit', async () => {
    const big = await scene(0.5, 1920, 1080);
    await provider().describe(request(big, { maxSide: 512 }));
    expect(server.requests[0].image).toMatchObject({ width: 512, height: 288 });
    await expect(provider().describe(request(await noise(800, 800), { maxSide: 768, maxBytes: 20_000 }))).rejects.toThrow(
      /picture is \d+ bytes even at 768×768 and JPEG quality 40: over the 20000-byte limit/,
    );
    expect(server.requests).toHaveLength(1);
  });

  it('pauses only the provider that got a 429, for as long as Retry-After says, then resumes', async () => {
    const limited = provider();
    const unaffected = provider({}, other);
    server.script({ kind: 'status', status: 429, headers: { 'retry-after': '20' } });
    expect(await limited.describe(request(still))).toEqual({ skipped: 'rate_limited', until: takenAt + 20_000, reason: expect.stringContaining('HTTP 429') });
    now += 19_000;
    expect(await limited.describe(request(await scene(0.5)))).toMatchObject({ skipped: 'rate_limited', until: takenAt + 20_000 });
    expect(server.requests).toHaveLength(1);
    expect(await unaffected.describe(request(still))).toMatchObject({ caption: 'A person walks up the driveway', cached: false });
    expect(other.requests).toHaveLength(1);
    now += 1_000;
    expect(await limited.describe(request(await scene(0.5)))).toMatchObject({ caption: 'A person walks up the driveway' });
    expect(server.requests).toHaveLength(2);
  });

  it('honours retry-after-ms before Retry-After', async () => {
    server.script({ kind: 'status', status: 429, headers: { 'retry-after-ms': '1500', 'retry-after': '60' } });
    expect(await provider().describe(request(still))).toMatchObject({ skipped: 'rate_limited', until: takenAt + 1500 });
  });

  it('skips without sending a request once the budget is spent, saying when it resets', async () => {
    const limited = provider({ budget: { requestsPerHour: 1 } });
    await limited.describe(request(still));
    now += 5 * 60_000;
    expect(await limited.describe(request(await scene(0.5)))).toEqual({ skipped: 'budget', resetsAt: takenAt + 3600_000, reason: '1 requests per hour spent' });
    expect(server.requests).toHaveLength(1);
  });

  it('answers an unchanged scene from the cache and asks again for a clearly different one', async () => {
    const p = provider();
    await p.describe(request(still));
    const again = await p.describe(request(await scene(null, 320, 180)));
    expect(again).toMatchObject({ caption: 'A person walks up the driveway', cached: true, tokens: { prompt: 0, completion: 0, total: 0 } });
    expect(server.requests).toHaveLength(1);
    expect(await p.describe(request(still, { camera: 'garage' }))).toMatchObject({ cached: false });
    expect(await p.describe(request(await scene(0.5)))).toMatchObject({ cached: false });
    expect(server.requests).toHaveLength(3);
    now += 11 * 60_000;
    expect(await p.describe(request(still))).toMatchObject({ cached: false });
  });

  it.each([
    [{ kind: 'content', content: "I'm sorry, but I can't help with that." } as const, /declined: "I'm sorry/],
    [{ kind: 'refusal', refusal: 'I cannot describe people.' } as const, /the model refused: "I cannot describe people\."/],
    [{ kind: 'ok', reply: { caption: 'UNREADABLE' } } as const, /declined: "UNREADABLE"/],
    [{ kind: 'ok', reply: { caption: '  ' } } as const, /empty caption/],
  ])('never makes a caption of a refusal (%j)', async (reply, reason) => {
    server.script(reply);
    const result = await provider().describe(request(still));
    expect(result).toEqual({ skipped: 'refused', reason: expect.stringMatching(reason) });
    expect(await register.getSingleMetricAsString('glimpser_ai_requests_total')).toMatch(/outcome="refused"\} [1-9]/);
  });

  it('retries a malformed reply once, then reports what was wrong', async () => {
    server.script({ kind: 'content', content: '{"caption": "half' }, { kind: 'ok' });
    expect(await provider().describe(request(still))).toMatchObject({ caption: 'A person walks up the driveway', tokens: { total: 140 + 1060 } });
    expect(server.requests).toHaveLength(2);
    server.script({ kind: 'ok', reply: { severity: 'urgent' } }, { kind: 'content', content: 'not json at all' });
    await expect(provider().describe(request(await scene(0.5)))).rejects.toThrow(
      /sent a malformed reply twice; the last: reply is not JSON .*\(first: reply field "severity"/,
    );
    expect(server.requests).toHaveLength(4);
  });

  it('times out a slow reply with a message naming the server and the limit', async () => {
    server.script({ kind: 'slow', delayMs: 3000 });
    await expect(provider({ timeoutMs: 300 }).describe(request(still))).rejects.toThrow(`no reply from ${server.baseURL} (model gpt-4o-mini) within 300 ms`);
    expect(server.requests).toHaveLength(1);
  });

  it('retries a server error once with backoff, then fails with the status', async () => {
    server.script({ kind: 'status', status: 500 }, { kind: 'ok' });
    expect(await provider().describe(request(still))).toMatchObject({ cached: false });
    server.script({ kind: 'status', status: 502 }, { kind: 'status', status: 503, message: 'overloaded' });
    await expect(provider().describe(request(still))).rejects.toThrow(/failed with HTTP 503: 503 overloaded/);
    expect(server.requests).toHaveLength(4);
  });

  it('holds at most maxConcurrent requests in flight', async () => {
    server.script({ kind: 'slow', delayMs: 300 }, { kind: 'slow', delayMs: 300 }, { kind: 'slow', delayMs: 300 });
    const p = provider({ maxConcurrent: 1 });
    const pictures = await Promise.all([scene(null), scene(0.3), scene(0.6)]);
    await Promise.all(pictures.map((jpeg, i) => p.describe(request(jpeg, { camera: `cam${i}` }))));
    expect(server.requests).toHaveLength(3);
    expect(server.peakInFlight).toBe(1);
  });
});
