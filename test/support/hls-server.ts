import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, watch } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findTool } from './tools';

export interface HlsTestServerOptions {
  width?: number;
  height?: number;
  fps?: number;
  /** Segments the playlist must list before start() resolves. */
  readySegments?: number;
  startTimeoutMs?: number;
}

const TYPES: Record<string, string> = { '.m3u8': 'application/vnd.apple.mpegurl', '.ts': 'video/mp2t' };

/**
 * A live HLS stream on loopback: ffmpeg encodes a moving test picture into one-second segments in a temp
 * folder, and a Node HTTP server serves them as `/live/index.m3u8`, as a web camera or streaming site would.
 */
export class HlsTestServer {
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'glimpser-hls-'));
  private encoder: ChildProcess | null = null;
  private encoderExited: Promise<void> = Promise.resolve();
  private server: Server | null = null;
  private encoderErrors = '';

  constructor(private readonly options: HlsTestServerOptions = {}) {}

  get playlistUrl(): string {
    if (this.server === null) throw new Error('the HLS test server has not been started yet');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/live/index.m3u8`;
  }

  /** Resolves once the playlist lists a few segments, so a player has something to play. */
  async start(): Promise<void> {
    const { width = 640, height = 360, fps = 15, readySegments = 2, startTimeoutMs = 15000 } = this.options;
    const playlist = path.join(this.dir, 'index.m3u8');
    const ready = this.whenPlaylistLists(playlist, readySegments, startTimeoutMs);
    // temp_file renames each segment and playlist into place whole, so a request never reads a half-written file.
    const encoder = spawn(
      findTool('ffmpeg'),
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-nostdin',
        '-re',
        '-f',
        'lavfi',
        '-i',
        `testsrc2=size=${width}x${height}:rate=${fps}`,
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-tune',
        'zerolatency',
        '-g',
        String(fps),
        '-pix_fmt',
        'yuv420p',
        '-f',
        'hls',
        '-hls_time',
        '1',
        '-hls_list_size',
        '6',
        '-hls_flags',
        'delete_segments+temp_file',
        '-hls_segment_filename',
        path.join(this.dir, 'seg%05d.ts'),
        playlist,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.encoder = encoder;
    this.encoderExited = new Promise((resolve) => encoder.once('exit', () => resolve()));
    encoder.stderr?.setEncoding('utf8').on('data', (text: string) => (this.encoderErrors = (this.encoderErrors + text).slice(-2000)));
    const server = createServer((req, res) => {
      const name = /^\/live\/([\w-]+\.(?:m3u8|ts))$/.exec(new URL(req.url ?? '/', 'http://localhost').pathname)?.[1];
      const file = name === undefined ? '' : path.join(this.dir, name);
      if (name === undefined || !existsSync(file)) {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
        return;
      }
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(name)], 'Cache-Control': 'no-cache' });
      createReadStream(file)
        .on('error', () => res.destroy())
        .pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    try {
      await ready;
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    const { encoder, server } = this;
    this.encoder = null;
    this.server = null;
    if (encoder !== null && encoder.exitCode === null && encoder.signalCode === null) encoder.kill('SIGKILL');
    await this.encoderExited;
    if (server !== null) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private whenPlaylistLists(playlist: string, segments: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const watcher = watch(this.dir);
      const timer = setTimeout(() => {
        watcher.close();
        reject(
          new Error(
            `HLS test server: the playlist did not list ${segments} segments within ${timeoutMs} ms: ${this.encoderErrors.trim() || 'ffmpeg said nothing'}`,
          ),
        );
      }, timeoutMs);
      watcher.on('change', () => {
        if (!existsSync(playlist) || readFileSync(playlist, 'utf8').split('#EXTINF').length - 1 < segments) return;
        clearTimeout(timer);
        watcher.close();
        resolve();
      });
    });
  }
}
