import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { ImageSource, type ImageSourceOptions } from '../../core/capture/image-source';
import type { CameraStatus } from '../../core/capture/source';
import type { Frame } from '../../core/frames/frame';
import { metrics } from '../../core/metrics';
import { ffprobeImage, freePort, metricValue, recordingLogger, waitFor } from '../support/tools';

const USER = 'viewer';
const PASSWORD = 'pa55-w0rd-for-snapshots';
const REALM = 'IP Camera';
const BIG_BYTES = 4 * 1024 * 1024;

let server: Server;
let base: string;
let jpeg: Buffer;
let png: Buffer;
const stats = { unauthorized: 0, bigBytesWritten: 0, bigClosedEarly: false, nonceUses: new Map<string, number>(), urls: [] as string[] };
/** What the camera server did that tests wait on: 'big-closed' once a /big.jpg response is over. */
const served = new EventEmitter();
const sources: ImageSource[] = [];

/** Checks a Digest Authorization the way a camera would, written from RFC 7616 §3.4.1 independently of the client. */
function digestValid(header: string | undefined, algorithm: 'MD5' | 'SHA-256', nonce: string, method: string): boolean {
  if (header === undefined || !header.startsWith('Digest ')) return false;
  const params = Object.fromEntries([...header.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)].map((m) => [m[1], m[2] ?? m[3]]));
  const h = (text: string) =>
    createHash(algorithm === 'MD5' ? 'md5' : 'sha256')
      .update(text)
      .digest('hex');
  if (params.username !== USER || params.nonce !== nonce || params.qop !== 'auth' || params.algorithm !== algorithm) return false;
  const nc = parseInt(params.nc, 16);
  // A replayed or reordered nonce count is refused, as RFC 7616 §3.4 lets a server do.
  if (!(nc > (stats.nonceUses.get(nonce) ?? 0))) return false;
  stats.nonceUses.set(nonce, nc);
  const expected = h(`${h(`${USER}:${REALM}:${PASSWORD}`)}:${nonce}:${params.nc}:${params.cnonce}:auth:${h(`${method}:${params.uri}`)}`);
  return params.response === expected;
}

function sendJpeg(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length });
  res.end(jpeg);
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  stats.urls.push(req.url ?? '');
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const digest = /^\/digest-(md5|sha256)\//.exec(path);
  if (path === '/basic/snap.jpg') {
    const expected = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
    if (req.headers.authorization === expected) return sendJpeg(res);
    stats.unauthorized += 1;
    res.writeHead(401, { 'www-authenticate': `Basic realm="${REALM}"` });
    return void res.end('unauthorized');
  }
  if (digest) {
    const algorithm = digest[1] === 'md5' ? 'MD5' : 'SHA-256';
    const nonce = `${digest[1]}-nonce-0001`;
    if (digestValid(req.headers.authorization, algorithm, nonce, req.method ?? 'GET')) return sendJpeg(res);
    stats.unauthorized += 1;
    // Offered with Basic too: a client must prefer Digest.
    res.setHeader('www-authenticate', [`Digest realm="${REALM}", qop="auth", algorithm=${algorithm}, nonce="${nonce}", opaque="op"`, `Basic realm="${REALM}"`]);
    res.writeHead(401);
    return void res.end();
  }
  if (path === '/snap.png') {
    res.writeHead(200, { 'content-type': 'image/png' });
    return void res.end(png);
  }
  if (path === '/page.html') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    return void res.end('<!doctype html><title>Login</title><form>password?</form>');
  }
  if (path === '/noise') {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    return void res.end(randomBytes(5000));
  }
  if (path === '/big.jpg') {
    // Streamed without a length, so only counting while reading can notice the size.
    res.writeHead(200, { 'content-type': 'image/jpeg' });
    let written = 0;
    res.on('close', () => {
      stats.bigBytesWritten = written;
      stats.bigClosedEarly = written < BIG_BYTES;
      served.emit('big-closed');
    });
    const chunk = Buffer.alloc(64 * 1024, 0xab);
    const pump = () => {
      while (written < BIG_BYTES && !res.destroyed) {
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    return pump();
  }
  if (path === '/slow.jpg') return; // never answers
  if (path === '/moved.jpg') {
    res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' });
    return void res.end();
  }
  res.writeHead(404);
  res.end();
}

beforeAll(async () => {
  jpeg = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 200, g: 80, b: 20 } } })
    .jpeg()
    .toBuffer();
  png = await sharp({ create: { width: 160, height: 120, channels: 4, background: { r: 0, g: 120, b: 255, alpha: 1 } } })
    .png()
    .toBuffer();
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await Promise.all(sources.splice(0).map((source) => source.stop()));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function makeSource(options: Partial<ImageSourceOptions> & { url: string }): ImageSource {
  const source = new ImageSource({
    camera: 'snap',
    everyMs: 200,
    timeoutMs: 3000,
    backoff: { initialMs: 100, maxMs: 200 },
    failuresBeforeOffline: 2,
    ...options,
  });
  sources.push(source);
  return source;
}

async function firstFrame(source: ImageSource): Promise<Frame> {
  const frame = waitFor<Frame>(source, 'frame');
  source.start();
  return frame;
}

/** Starts the source and resolves with the status once it is offline. */
async function offline(source: ImageSource): Promise<CameraStatus> {
  const status = waitFor<CameraStatus>(source, 'status', (s) => s.state === 'offline');
  source.start();
  return status;
}

const rejected = (reason: string): Promise<number> => metricValue(metrics.framesRejectedTotal, { camera: 'snap', reason });

describe('ImageSource (an "image" camera polling a snapshot URL)', () => {
  it('fetches a JPEG behind HTTP Basic auth (RFC 7617) and passes it on unchanged, going online', async () => {
    const { logger, entries } = recordingLogger();
    const source = makeSource({ url: `http://${USER}:${PASSWORD}@${base.slice(7)}/basic/snap.jpg`, logger });
    const statuses: CameraStatus[] = [];
    source.on('status', (s: CameraStatus) => statuses.push(s));
    const frame = await firstFrame(source);
    expect(frame.jpeg.equals(jpeg)).toBe(true);
    expect(frame.meta).toMatchObject({ camera: 'snap', sequence: 1, width: 320, height: 240, bytes: jpeg.length });
    expect(ffprobeImage(frame.jpeg)).toEqual({ codec: 'mjpeg', width: 320, height: 240 });
    expect(statuses.map((s) => s.state)).toEqual(['connecting', 'online']);
    const second = await waitFor<Frame>(source, 'frame');
    expect(second.meta.sequence).toBe(2);
    expect(JSON.stringify(entries)).not.toContain(PASSWORD);
    expect(JSON.stringify(source.status())).not.toContain(PASSWORD);
  });

  it.each(['md5', 'sha256'])('answers a Digest %s challenge (RFC 7616, qop=auth) and reuses the nonce with a rising nc', async (algorithm) => {
    const before = stats.unauthorized;
    const source = makeSource({ url: `${base}/digest-${algorithm}/snap`, credentials: { username: USER, password: PASSWORD } });
    const frame = await firstFrame(source);
    expect(ffprobeImage(frame.jpeg)).toEqual({ codec: 'mjpeg', width: 320, height: 240 });
    await waitFor<Frame>(source, 'frame', (f) => f.meta.sequence === 3);
    // One challenge at the start; later polls authenticate up front.
    expect(stats.unauthorized - before).toBe(1);
    expect(stats.nonceUses.get(`${algorithm}-nonce-0001`)).toBeGreaterThanOrEqual(3);
  });

  it('converts a PNG snapshot to a JPEG that sharp and ffprobe decode', async () => {
    const frame = await firstFrame(makeSource({ url: `${base}/snap.png` }));
    expect(frame.jpeg.subarray(0, 2).toString('hex')).toBe('ffd8');
    expect(await sharp(frame.jpeg).metadata()).toMatchObject({ format: 'jpeg', width: 160, height: 120 });
    expect(ffprobeImage(frame.jpeg)).toEqual({ codec: 'mjpeg', width: 160, height: 120 });
    expect(frame.meta).toMatchObject({ width: 160, height: 120, bytes: frame.jpeg.length });
  });

  it('refuses an HTML page, saying what came back, and goes offline', async () => {
    const before = await rejected('not_image');
    const status = await offline(makeSource({ url: `${base}/page.html` }));
    expect(status.lastError).toBe(`${base}/page.html returned text/html, not an image`);
    expect(await rejected('not_image')).toBeGreaterThan(before);
  });

  it('refuses random bytes', async () => {
    const status = await offline(makeSource({ url: `${base}/noise?token=abc123secret` }));
    expect(status.lastError).toBe(`${base}/noise?token=*** returned application/octet-stream, not an image`);
  });

  it('refuses a body over maxBytes while it streams in, without reading the rest', async () => {
    const before = await rejected('oversize');
    const closed = waitFor(served, 'big-closed', () => true, 10000);
    const status = await offline(makeSource({ url: `${base}/big.jpg`, maxBytes: 256 * 1024 }));
    expect(status.lastError).toMatch(/big\.jpg sent \d+ KiB or more, over the 256 KiB limit \(maxBytes\)$/);
    expect(await rejected('oversize')).toBeGreaterThan(before);
    await closed;
    expect(stats.bigClosedEarly).toBe(true);
    expect(stats.bigBytesWritten).toBeLessThan(BIG_BYTES);
  });

  it('goes offline with the connection error when nothing listens on the port', async () => {
    const port = await freePort();
    const status = await offline(makeSource({ url: `http://127.0.0.1:${port}/snap.jpg` }));
    expect(status.lastError).toBe(`http://127.0.0.1:${port}/snap.jpg could not be fetched: ECONNREFUSED`);
    expect(status.restarts).toBeGreaterThan(0);
  });

  it('reports 401 for wrong credentials, with the password nowhere in status or logs', async () => {
    const { logger, entries } = recordingLogger();
    const wrong = 'not-the-right-password';
    const source = makeSource({ url: `${base}/digest-md5/snap`, credentials: { username: USER, password: wrong }, logger });
    const status = await offline(source);
    expect(status.lastError).toBe(`${base}/digest-md5/snap returned 401 Unauthorized: the camera refused the username and password`);
    const basic = await offline(makeSource({ url: `http://${USER}:${wrong}@${base.slice(7)}/basic/snap.jpg`, logger }));
    expect(basic.lastError).toContain('http://***:***@127.0.0.1');
    expect(basic.lastError).toContain('401');
    expect(JSON.stringify(entries)).not.toContain(wrong);
  });

  it('goes offline after offlineAfterMs without an image while a request hangs, then reports the timeout', async () => {
    const source = makeSource({ url: `${base}/slow.jpg`, offlineAfterMs: 300, timeoutMs: 1000 });
    const status = await offline(source);
    expect(status.lastError).toMatch(/slow\.jpg: no image for 0\.\d s$/);
    const timedOut = await waitFor<CameraStatus>(source, 'status', (s) => s.lastError?.includes('did not answer') === true);
    expect(timedOut.lastError).toBe(`${base}/slow.jpg did not answer within 1 s`);
  });

  it('does not follow redirects, which could lead past the address checks', async () => {
    const status = await offline(makeSource({ url: `${base}/moved.jpg` }));
    expect(status.lastError).toBe(`${base}/moved.jpg returned 302 (a redirect to http://169.254.169.254/latest/meta-data): configure the final snapshot URL`);
  });

  it('says a username and password are needed when the camera asks and none is configured', async () => {
    const status = await offline(makeSource({ url: `${base}/basic/snap.jpg` }));
    expect(status.lastError).toMatch(/returned 401 Unauthorized: the camera asks for a username and password/);
  });

  it('refuses link-local and metadata addresses at configuration time unless allow-listed', () => {
    expect(() => new ImageSource({ camera: 'snap', url: 'http://169.254.169.254/latest/meta-data' })).toThrow(/link-local/);
    expect(() => new ImageSource({ camera: 'snap', url: 'http://metadata.google.internal/x' })).toThrow(/metadata/);
    expect(() => new ImageSource({ camera: 'snap', url: 'ftp://camera/snap.jpg' })).toThrow(/only http:\/\/ and https:\/\//);
    expect(() => new ImageSource({ camera: 'snap', url: 'http://169.254.1.20/snap.jpg', urlPolicy: { allowHosts: ['169.254.1.20'] } })).not.toThrow();
    expect(() => new ImageSource({ camera: 'snap', url: 'http://192.168.1.20/snap.jpg' })).not.toThrow();
  });

  it('stops polling on stop() and reports stopped', async () => {
    const source = makeSource({ url: `${base}/snap.png?poller=stopped` });
    await firstFrame(source);
    await source.stop();
    expect(source.status().state).toBe('stopped');
    let late = 0;
    source.on('frame', () => (late += 1));
    const polls = stats.urls.filter((url) => url.endsWith('poller=stopped')).length;
    // A second source on the same everyMs polls twice, so at least one full period passes with the first stopped.
    const clock = makeSource({ url: `${base}/snap.png?poller=clock` });
    await firstFrame(clock);
    await waitFor<Frame>(clock, 'frame');
    expect(late).toBe(0);
    expect(stats.urls.filter((url) => url.endsWith('poller=stopped'))).toHaveLength(polls);
  });
});
