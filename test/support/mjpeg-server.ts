import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { JpegSplitter } from '../../core/frames/jpeg';
import { findTool } from './tools';

export interface MjpegTestServerOptions {
  width?: number;
  height?: number;
  fps?: number;
}

const BOUNDARY = 'glimpserframe';
const HTML_PAGE = '<!doctype html><html><head><title>Not a camera</title></head><body><p>Nothing to see here.</p></body></html>\n';

/**
 * An HTTP camera on loopback, serving what real ones do and what broken ones do:
 * - `/mjpeg`: multipart/x-mixed-replace MJPEG, the usual IP-camera stream, at the configured frame rate;
 * - `/snapshot.jpg`: one JPEG, as a snapshot-only camera;
 * - `/page.html`: an HTML page, as when a user pastes the camera's web UI address;
 * - `/random.mp4`: random bytes labelled video/mp4, a corrupt stream.
 * The JPEGs are a moving test picture that ffmpeg encodes once at start().
 */
export class MjpegTestServer {
  private server: Server | null = null;
  private jpegs: Buffer[] = [];
  private readonly noise = noise(256 * 1024);
  private readonly hits = new Map<string, number>();

  constructor(private readonly options: MjpegTestServerOptions = {}) {}

  async start(): Promise<void> {
    const { width = 640, height = 360, fps = 10 } = this.options;
    const { stdout } = await promisify(execFile)(
      findTool('ffmpeg'),
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        `testsrc2=size=${width}x${height}:rate=${fps}`,
        '-frames:v',
        String(fps * 2),
        '-f',
        'image2pipe',
        '-c:v',
        'mjpeg',
        '-q:v',
        '5',
        'pipe:1',
      ],
      { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
    );
    this.jpegs = new JpegSplitter().push(stdout);
    const server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
  }

  url(route: '/mjpeg' | '/snapshot.jpg' | '/page.html' | '/random.mp4'): string {
    if (this.server === null) throw new Error('the MJPEG test server has not been started yet');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${route}`;
  }

  /** How many requests a route has had: a reconnect storm shows up here. */
  requests(route: string): number {
    return this.hits.get(route) ?? 0;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const route = new URL(req.url ?? '/', 'http://localhost').pathname;
    this.hits.set(route, this.requests(route) + 1);
    switch (route) {
      case '/mjpeg':
        this.stream(req, res);
        return;
      case '/snapshot.jpg':
        res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': this.jpegs[0].length }).end(this.jpegs[0]);
        return;
      case '/page.html':
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(HTML_PAGE);
        return;
      case '/random.mp4':
        res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': this.noise.length }).end(this.noise);
        return;
      default:
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    }
  }

  private stream(req: IncomingMessage, res: ServerResponse): void {
    const { fps = 10 } = this.options;
    res.writeHead(200, { 'Content-Type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`, 'Cache-Control': 'no-cache' });
    let next = 0;
    const send = (): void => {
      const jpeg = this.jpegs[next++ % this.jpegs.length];
      res.write(`--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`);
      res.write(jpeg);
      res.write('\r\n');
    };
    send();
    const timer = setInterval(send, 1000 / fps);
    req.socket.once('close', () => clearInterval(timer));
  }
}

/** Random-looking bytes, the same every run (xorshift32), so what ffmpeg makes of them cannot change between runs. */
function noise(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  let x = 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}
