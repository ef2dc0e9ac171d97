import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { Budget, UNLIMITED } from '../../core/describe/budget';
import { DescriptionCache } from '../../core/describe/cache';
import { dHash, dHashOfGrey, hammingDistance } from '../../core/describe/dhash';
import { checkTemplate, checkTimeZone, formatClock, renderPrompt } from '../../core/describe/prompt';
import { refusalIn } from '../../core/describe/refusal';
import { parseReply } from '../../core/describe/reply';
import { retryAfterMs } from '../../core/describe/retry-after';
import type { Description } from '../../core/describe/vision';
import { aiDescribeConfigFrom } from '../../nodes/ai-describe/schema';
import { aiConfigFrom } from '../../nodes/glimpser-ai/schema';

const scene = (personAt: number | null, width = 640, height = 360, quality = 80) =>
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
              left: personAt,
              top: Math.round(height / 3),
            },
          ]),
    ])
    .jpeg({ quality })
    .toBuffer();

describe('dHash and Hamming distance', () => {
  it('hashes a 9×8 plane one bit per neighbour pair, left brighter = 1', () => {
    const descending = Uint8Array.from({ length: 72 }, (_v, i) => 255 - (i % 9) * 20);
    expect(dHashOfGrey(descending)).toBe(0xffffffffffffffffn);
    expect(dHashOfGrey(new Uint8Array(72))).toBe(0n);
    expect(() => dHashOfGrey(new Uint8Array(64))).toThrow('9×8 grey plane (72 bytes): got 64');
  });

  it('counts differing bits', () => {
    expect(hammingDistance(0n, 0n)).toBe(0);
    expect(hammingDistance(0b1011n, 0b0001n)).toBe(2);
    expect(hammingDistance(0xffffffffffffffffn, 0n)).toBe(64);
  });

  it('sees the same scene through rescaling and recompression, and a different one when something enters', async () => {
    const base = await dHash(await scene(null));
    expect(hammingDistance(base, await dHash(await scene(null, 320, 180, 40)))).toBeLessThanOrEqual(4);
    expect(hammingDistance(base, await dHash(await scene(300)))).toBeGreaterThan(4);
  });
});

describe('budget (rolling windows)', () => {
  it('allows requests up to the hourly limit, then says when the oldest leaves the last hour', () => {
    let now = 1_000_000;
    const budget = new Budget({ ...UNLIMITED, requestsPerHour: 2 }, () => now);
    budget.spend();
    now += 10 * 60_000;
    budget.spend();
    expect(budget.check()).toEqual({ ok: false, resetsAt: 1_000_000 + 3600_000, reason: '2 requests per hour spent' });
    now = 1_000_000 + 3600_000;
    expect(budget.check()).toEqual({ ok: true });
  });

  it('counts the tokens replies report against the hourly and daily token limits; the later reset wins', () => {
    let now = 0;
    const budget = new Budget({ ...UNLIMITED, tokensPerHour: 1000, tokensPerDay: 1500 }, () => now);
    budget.spend().settle(900);
    expect(budget.check().ok).toBe(true);
    now = 60_000;
    budget.spend().settle(700);
    const spent = budget.check();
    expect(spent).toMatchObject({ ok: false, resetsAt: 24 * 3600_000, reason: '1500 tokens per day spent' });
    now = 2 * 3600_000;
    expect(budget.check()).toMatchObject({ ok: false, resetsAt: 24 * 3600_000 });
    now = 24 * 3600_000;
    expect(budget.check()).toEqual({ ok: true });
    expect(budget.used(24 * 3600_000)).toEqual({ requests: 1, tokens: 700 });
  });

  it('refuses a negative or fractional limit by name', () => {
    expect(() => new Budget({ ...UNLIMITED, tokensPerDay: -1 })).toThrow('budget tokensPerDay -1 is invalid');
  });
});

describe('Retry-After parsing', () => {
  const now = Date.parse('2024-05-06T12:00:00Z');
  it.each([
    [{ 'retry-after': '7' }, 7000],
    [{ 'retry-after': '1.5' }, 1500],
    [{ 'retry-after-ms': '250', 'retry-after': '9' }, 250],
    [{ 'retry-after': 'Mon, 06 May 2024 12:00:30 GMT' }, 30000],
    [{ 'retry-after': 'Mon, 06 May 2024 11:59:00 GMT' }, 0],
    [{ 'retry-after': 'soon' }, null],
    [{}, null],
  ])('%j → %p ms', (headers, expected) => {
    expect(retryAfterMs(headers, now)).toBe(expected);
    expect(retryAfterMs(new Headers(headers), now)).toBe(expected);
  });

  it('caps an absurd pause at a day', () => {
    expect(retryAfterMs({ 'retry-after': '99999999' }, now)).toBe(24 * 3600_000);
  });
});

describe('prompt templates', () => {
  const takenAt = Date.parse('2024-01-15T13:05:09Z');
  it("fills {camera}, {notes} and {datetime}, the time in the camera's zone", () => {
    expect(renderPrompt('{camera} at {datetime}. {notes}', { camera: 'porch', notes: ' Deliveries come before noon. ', takenAt, timeZone: 'Asia/Tokyo' })).toBe(
      'porch at Monday 2024-01-15 22:05:09 GMT+9 (Asia/Tokyo). Deliveries come before noon.',
    );
    expect(renderPrompt('{datetime}', { camera: 'porch', takenAt, timeZone: 'America/New_York' })).toBe('Monday 2024-01-15 08:05:09 GMT-5 (America/New_York)');
    expect(formatClock(takenAt, 'Europe/Paris')).toBe('14:05');
  });

  it('names an unknown variable and an unknown time zone', () => {
    expect(() => checkTemplate('{camera} {time}')).toThrow('prompt template uses {time}: the variables are {camera}, {notes}, {datetime}');
    expect(() => checkTimeZone('Mars/Olympus')).toThrow('time zone "Mars/Olympus" is not an IANA time zone name');
    expect(checkTimeZone('Europe/Paris')).toBe('Europe/Paris');
  });
});

describe('replies and refusals', () => {
  it.each([
    ["I'm sorry, but I can't help with that."],
    ['I cannot identify people in images.'],
    ['Unfortunately, I am unable to view this image'],
    ['UNREADABLE'],
    ['   '],
  ])('treats %p as a refusal', (text) => {
    expect(refusalIn(text)).not.toBeNull();
  });

  it('keeps real captions', () => {
    expect(refusalIn('A person carries a sorry-looking box')).toBeNull();
    expect(refusalIn('{"caption":"x"}')).toBeNull();
  });

  it('parses a good reply (even fenced) and names what is wrong with a bad one', () => {
    const good = { caption: 'A car', description: 'A red car parks.', tags: ['car'], severity: 'low', confidence: 0.9 };
    expect(parseReply(`\`\`\`json\n${JSON.stringify(good)}\n\`\`\``)).toEqual({ ok: true, reply: good });
    expect(parseReply('{"caption": "A car"')).toMatchObject({ ok: false, problem: expect.stringContaining('reply is not JSON') });
    expect(parseReply(JSON.stringify({ ...good, severity: 'urgent' }))).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/field "severity".*"low", "medium", "high" or "critical"/),
    });
    expect(parseReply(JSON.stringify({ ...good, confidence: 7 }))).toMatchObject({ ok: false, problem: 'reply field "confidence" must be <= 1' });
    expect(parseReply(JSON.stringify({ caption: 'x' }))).toMatchObject({ ok: false, problem: expect.stringContaining('"description"') });
  });
});

describe('description cache', () => {
  const description: Description = {
    caption: 'c',
    description: 'd',
    tags: [],
    severity: 'low',
    confidence: 1,
    model: 'm',
    tokens: { prompt: 1, completion: 1, total: 2 },
    latencyMs: 1,
    cached: false,
  };
  it('hits within the distance for the same scope, evicts the least recently used, and expires', () => {
    let now = 0;
    const cache = new DescriptionCache({ maxDistance: 4, maxEntries: 2, ttlMs: 1000, now: () => now });
    cache.set('a', 0b1111n, description);
    expect(cache.get('a', 0b0111n)).toBe(description);
    expect(cache.get('b', 0b1111n)).toBeNull();
    expect(cache.get('a', 0xff00n)).toBeNull();
    cache.set('b', 1n, description);
    cache.get('a', 0b1111n);
    cache.set('c', 2n, description);
    expect(cache.get('b', 1n)).toBeNull();
    expect(cache.get('a', 0b1111n)).toBe(description);
    now = 1001;
    expect(cache.get('a', 0b1111n)).toBeNull();
    expect(cache.size).toBe(0);
  });
});

describe('example flows for the AI nodes', () => {
  const ROOT = path.join(__dirname, '..', '..');
  it.each(['examples/glimpser-ai/01-local-ollama.json', 'examples/ai-describe/01-describe-motion.json'])(
    '%s holds valid glimpser-ai and ai-describe settings',
    (file) => {
      const nodes = JSON.parse(readFileSync(path.join(ROOT, file), 'utf8')) as Array<Record<string, unknown>>;
      const providers = nodes.filter((n) => n.type === 'glimpser-ai');
      const describers = nodes.filter((n) => n.type === 'ai-describe');
      expect(providers.length + describers.length).toBeGreaterThan(1);
      for (const node of providers) expect(() => aiConfigFrom(node)).not.toThrow();
      for (const node of describers) {
        expect(() => aiDescribeConfigFrom(node)).not.toThrow();
        expect(providers.map((p) => p.id)).toContain(node.ai);
      }
    },
  );
});
