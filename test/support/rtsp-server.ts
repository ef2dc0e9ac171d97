import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';

const SCRIPT = path.join(__dirname, 'rtsp_server.py');
/** Debian's interpreter: it sees the python3-gi bindings that a pyenv or venv python would not. */
const PYTHON = '/usr/bin/python3';

export interface RtspTestServerOptions {
  width?: number;
  height?: number;
  fps?: number;
  /** The camera asks for these (Basic auth) and answers 401 without them. */
  credentials?: { username: string; password: string };
  /** Milliseconds to wait for the server to accept connections. */
  startTimeoutMs?: number;
}

/**
 * A real RTSP camera on loopback (GStreamer's RTSP server, test/support/rtsp_server.py) streaming a moving
 * 1280x720 H.264 ball at 15 fps. The first start() picks a free port; later ones reuse it, so a camera
 * configured with `url` sees the same camera come back after stop(), as after a power cut.
 */
export class RtspTestServer {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private boundPort = 0;

  constructor(private readonly options: RtspTestServerOptions = {}) {}

  get port(): number {
    if (this.boundPort === 0) throw new Error('the RTSP test server has not been started yet');
    return this.boundPort;
  }

  get url(): string {
    return `rtsp://127.0.0.1:${this.port}/test`;
  }

  /** Resolves once the server accepts TCP connections on its port. */
  async start(): Promise<void> {
    if (this.child !== null) throw new Error('the RTSP test server is already running');
    const { width = 1280, height = 720, fps = 15, credentials, startTimeoutMs = 15000 } = this.options;
    const login = credentials ? [credentials.username, credentials.password] : [];
    const args = [SCRIPT, String(this.boundPort), String(width), String(height), String(fps), ...login];
    const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-2000)));
    const failed = (why: string): Error => new Error(`RTSP test server ${why}: ${stderr.trim() || 'no output'}`);
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(failed(`did not start within ${startTimeoutMs} ms`)), startTimeoutMs);
      child.once('error', (err) => reject(failed(`could not be started (${err.message})`)));
      child.once('exit', (code) => reject(failed(`exited with code ${code}`)));
      createInterface({ input: child.stdout }).once('line', (line) => {
        clearTimeout(timer);
        resolve(Number(line));
      });
    }).catch(async (err: Error) => {
      await this.stop();
      throw err;
    });
    this.boundPort = port;
    await acceptsConnections(port);
  }

  /** Kills the server at once, as a camera losing power; resolves when the process is gone. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child === null) return;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await this.exited;
  }
}

function acceptsConnections(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', (err) => reject(new Error(`RTSP test server announced port ${port} but refuses connections: ${err.message}`)));
  });
}
