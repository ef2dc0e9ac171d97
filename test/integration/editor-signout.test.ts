import WebSocket from 'ws';
import { basic, editorLogin, startGlimpser, type RunningGlimpser } from '../support/glimpser-process';

/**
 * Issue 12: a password change signs the user out everywhere — also an editor left open. Node-RED checks the editor
 * websocket's token only when it opens (`{"auth": token}` → `{"auth":"ok"}`), so Glimpser closes the open ones when
 * tokens are revoked; the editor reconnects by itself, and its old token is then refused.
 */
const PASSWORD = 'admin-password-for-editor-signout';
const NEW_PASSWORD = 'another-admin-password-after-change';

describe('an open editor after a password change', () => {
  let app: RunningGlimpser;
  beforeAll(async () => {
    app = await startGlimpser(undefined, { GLIMPSER_ADMIN_PASSWORD: PASSWORD });
  }, 120000);
  afterAll(() => app?.stop());

  /** The editor's comms websocket, signed in with `token`; resolves with the socket and Node-RED's answer. */
  function openComms(token: string): Promise<{ socket: WebSocket; answer: string; closed: Promise<number> }> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${app.base.replace('http', 'ws')}/editor/comms`);
      const closed = new Promise<number>((done) => socket.once('close', (code) => done(code)));
      socket.once('error', reject);
      socket.once('open', () => socket.send(JSON.stringify({ auth: token })));
      socket.once('message', (data) => resolve({ socket, answer: String(data), closed }));
    });
  }

  it('is disconnected, and its old token no longer signs the websocket in', async () => {
    const token = await editorLogin(app);
    const editor = await openComms(token);
    expect(JSON.parse(editor.answer)).toMatchObject({ auth: 'ok' });

    const change = await fetch(`${app.base}/api/me/password`, {
      method: 'PUT',
      headers: { authorization: basic('admin', PASSWORD), 'content-type': 'application/json' },
      body: JSON.stringify({ oldPassword: PASSWORD, newPassword: NEW_PASSWORD }),
    });
    expect(change.status).toBe(200);
    await editor.closed;

    const again = await openComms(token);
    expect(JSON.parse(again.answer)).toMatchObject({ auth: 'fail' });
    again.socket.close();
    expect(app.logs.join('')).toMatch(/editor connections closed after a sign-out or an account change/);
  });
});
