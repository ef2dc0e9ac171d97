import { performance } from 'node:perf_hooks';
import type { Request, Response } from 'express';
import type { CameraHandle } from '../../core/capture/registry';
import type { Frame } from '../../core/frames/frame';
import type { Logger } from '../../core/log/logger';
import { metrics } from '../../core/metrics';
import { sendError } from './errors';

export interface StreamClientStats {
  id: number;
  camera: string;
  /** The connection's send buffer is full: newer frames replace the pending one until it drains. */
  congested: boolean;
  /** Bytes of the frame waiting for the connection to drain: never more than one frame. */
  pendingBytes: number;
  /** Bytes written but not yet taken by the kernel: at most one part plus the stream's high-water mark. */
  bufferedBytes: number;
  framesSent: number;
  framesDropped: number;
}

export interface MjpegStreamsOptions {
  maxClientsPerCamera: number;
  /** A client that takes no data for this long is disconnected, so a dead viewer does not hold a slot forever. */
  stalledAfterMs?: number;
  log: Logger;
}

const BOUNDARY = 'glimpserframe';

/**
 * The send buffer of each HTTP connection, set on the server (`createServer({ highWaterMark })`). A live-view
 * client counts as congested once a frame leaves more than this in its buffer; Node 22 raised the default to
 * 64 KiB, which would let a stalled viewer take several frames of 720p into the kernel before any is dropped.
 */
export const HTTP_HIGH_WATER_MARK = 16 * 1024;

const streamMetrics = { clients: metrics.streamClients, framesDropped: metrics.streamFramesDroppedTotal };

/**
 * One live-view client. Frames are never queued: while the connection's buffer is full, the newest frame
 * replaces the one waiting, so a slow viewer sees fewer frames rather than older ones, and its memory stays at
 * one frame however long it lags.
 */
class StreamClient {
  private pending: Frame | null = null;
  private congestedSince: number | null = null;
  framesSent = 0;
  framesDropped = 0;
  closed = false;

  constructor(
    readonly id: number,
    readonly camera: string,
    private readonly res: Response,
    private readonly stalledAfterMs: number,
    private readonly onStalled: () => void,
  ) {}

  offer(frame: Frame): void {
    if (this.closed) return;
    if (this.congestedSince === null) {
      this.write(frame);
      return;
    }
    if (performance.now() - this.congestedSince > this.stalledAfterMs) {
      this.closed = true;
      this.onStalled();
      return;
    }
    if (this.pending) {
      this.framesDropped += 1;
      streamMetrics.framesDropped.inc({ camera: this.camera });
    }
    this.pending = frame;
  }

  readonly drain = (): void => {
    this.congestedSince = null;
    const next = this.pending;
    this.pending = null;
    if (next && !this.closed) this.write(next);
  };

  stats(): StreamClientStats {
    return {
      id: this.id,
      camera: this.camera,
      congested: this.congestedSince !== null,
      pendingBytes: this.pending?.jpeg.length ?? 0,
      bufferedBytes: this.res.writableLength,
      framesSent: this.framesSent,
      framesDropped: this.framesDropped,
    };
  }

  private write(frame: Frame): void {
    const { jpeg, meta } = frame;
    const header = `--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\nX-Frame-Timestamp: ${meta.timestamp}\r\n\r\n`;
    // One part goes out whole (a part cut short would corrupt the stream); the shared frame Buffer is written as
    // it is, not copied. No cork(): on Node 22 and 24 a response corked around a write that fills its buffer
    // answers false but never emits 'drain', which would leave every viewer congested for good.
    this.res.write(header);
    this.res.write(jpeg);
    const accepted = this.res.write('\r\n');
    this.framesSent += 1;
    if (!accepted) this.congestedSince = performance.now();
  }
}

/** Every live-view client, per camera, with the per-camera limit and the stats the runtime and tests read. */
export class MjpegStreams {
  private readonly clients = new Map<string, Set<StreamClient>>();
  private readonly stalledAfterMs: number;
  private nextId = 1;

  constructor(private readonly options: MjpegStreamsOptions) {
    if (!Number.isInteger(options.maxClientsPerCamera) || options.maxClientsPerCamera < 1) {
      throw new Error(`maxClientsPerCamera ${String(options.maxClientsPerCamera)} is invalid: expected a whole number of at least 1`);
    }
    this.stalledAfterMs = options.stalledAfterMs ?? 30000;
  }

  /** Streams the camera as multipart/x-mixed-replace until the client goes, or answers 429 at the limit. */
  serve(camera: CameraHandle, req: Request, res: Response): void {
    const { maxClientsPerCamera, log } = this.options;
    const clients = this.clients.get(camera.id) ?? new Set<StreamClient>();
    if (clients.size >= maxClientsPerCamera) {
      sendError(
        res,
        429,
        'too_many_clients',
        `camera "${camera.id}" already has ${clients.size} live-view clients, the most allowed (maxClientsPerCamera); close one and retry`,
      );
      return;
    }
    res.status(200).set({
      'Content-Type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`,
      'Cache-Control': 'no-store',
      Connection: 'close',
      // Reverse proxies (nginx) would otherwise buffer the endless response and the viewer would see nothing.
      'X-Accel-Buffering': 'no',
    });
    // A HEAD request would otherwise hold a client slot and keep the camera decoding for a body never sent.
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    this.clients.set(camera.id, clients);
    res.flushHeaders();

    const client = new StreamClient(this.nextId++, camera.id, res, this.stalledAfterMs, () => {
      log.info({ camera: camera.id, client: client.id }, `live-view client took no data for ${this.stalledAfterMs} ms: disconnecting it`);
      res.destroy();
    });
    clients.add(client);
    streamMetrics.clients.set({ camera: camera.id }, clients.size);
    res.on('drain', client.drain);
    const detach = camera.attach({ onFrame: (frame) => client.offer(frame), onStatus: () => undefined });
    const latest = camera.latestFrame();
    // A frame at once, so the viewer is not blank until the next one; only a current one, not one left over.
    if (latest && camera.status().state === 'online') client.offer(latest);
    log.debug({ camera: camera.id, client: client.id, remote: req.socket.remoteAddress }, 'live-view client connected');

    res.once('close', () => {
      client.closed = true;
      res.off('drain', client.drain);
      clients.delete(client);
      if (clients.size === 0) this.clients.delete(camera.id);
      streamMetrics.clients.set({ camera: camera.id }, clients.size);
      detach().catch((err: Error) => log.warn({ camera: camera.id, err: err.message }, 'could not release the camera after a live-view client left'));
      log.debug({ camera: camera.id, client: client.id, sent: client.framesSent, dropped: client.framesDropped }, 'live-view client left');
    });
  }

  clientCount(camera: string): number {
    return this.clients.get(camera)?.size ?? 0;
  }

  stats(): StreamClientStats[] {
    return [...this.clients.values()].flatMap((clients) => [...clients].map((client) => client.stats()));
  }
}
