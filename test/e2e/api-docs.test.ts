import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { By, until, type WebDriver } from 'selenium-webdriver';
import { CameraRegistry } from '../../core/capture/registry';
import { silentLogger } from '../../core/log/logger';
import { docsRouter } from '../../runtime/api/docs';
import { MjpegStreams } from '../../runtime/api/mjpeg';
import { apiRouter } from '../../runtime/api/router';
import { Authenticator, SESSION_COOKIE } from '../../runtime/auth/middleware';
import { TokenSigner } from '../../runtime/auth/tokens';
import { closeRoutes, createHttp } from '../../runtime/http';
import { Readiness } from '../../runtime/readiness';
import { UserStore } from '../../runtime/stores/users';
import { startChromium } from '../support/chromium';

/**
 * Issue 12, acceptance 4: the interactive API page at /docs renders every operation of /api/openapi.json in real
 * Chromium, with swagger-ui-dist served by Glimpser itself (the browser reaches nothing else), and no console error.
 * The app is the real HTTP app (security headers included) with the real API router, signed in as a viewer through
 * the web app's session cookie.
 */
const PASSWORD = 'correct horse battery staple';

describe('the API docs page', () => {
  let dir: string;
  let server: Server;
  let base: string;
  let auth: Authenticator;
  let driver: WebDriver;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'glimpser-api-docs-'));
    const users = new UserStore(dir);
    await users.open();
    await users.create({ username: 'watcher', password: PASSWORD, role: 'viewer' });
    auth = new Authenticator(users, new TokenSigner(randomBytes(32).toString('hex'), 3600));
    const { app, server: http } = createHttp({ readiness: new Readiness(), auth, metricsAuth: true });
    const cameras = new CameraRegistry();
    app.use(
      '/api',
      apiRouter({
        users,
        auth,
        cameras,
        streams: new MjpegStreams({ maxClientsPerCamera: 1, log: silentLogger }),
        maxStreamClientsPerCamera: 1,
        log: silentLogger,
      }),
    );
    app.use('/docs', docsRouter(auth));
    closeRoutes(app, silentLogger);
    server = http.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    driver = await startChromium();
  }, 90000);

  afterAll(async () => {
    await driver?.quit();
    server?.closeAllConnections();
    if (server) await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('needs a signed-in user: the page and its document answer 401 without one', async () => {
    for (const url of ['/docs/', '/docs/swagger-ui-bundle.js', '/api/openapi.json']) {
      const res = await fetch(`${base}${url}`);
      expect({ url, status: res.status }).toEqual({ url, status: 401 });
    }
    const cookie = { cookie: `${SESSION_COOKIE}=${auth.issue('watcher').token}` };
    const moved = await fetch(`${base}/docs`, { headers: cookie, redirect: 'manual' });
    expect({ status: moved.status, location: moved.headers.get('location') }).toEqual({ status: 301, location: '/docs/' });
  });

  it('renders every operation of the document with no console error', async () => {
    // Signs in as the web app does: POST /api/auth/login from a page of the origin, answered with the session cookie.
    await driver.get(`${base}/api/auth/login`);
    const status = await driver.executeAsyncScript(
      `const done = arguments[arguments.length - 1];
       fetch('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'watcher', password: arguments[0], cookie: true }) })
         .then((res) => done(res.status), (err) => done(String(err)));`,
      PASSWORD,
    );
    expect(status).toBe(200);
    // Reading the log empties it: what the sign-in page logged (its 405, the origin's missing favicon.ico) is not the docs page's.
    await driver.manage().logs().get('browser');
    await driver.get(`${base}/docs/`);
    await driver.wait(until.elementLocated(By.css('.opblock')), 30000);
    const document = (await (await fetch(`${base}/api/openapi.json`, { headers: { authorization: `Bearer ${auth.issue('watcher').token}` } })).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const operations = Object.values(document.paths).reduce((sum, methods) => sum + Object.keys(methods).length, 0);
    expect((await driver.findElements(By.css('.opblock'))).length).toBe(operations);
    expect(await driver.findElement(By.css('.info .title')).getText()).toContain('Glimpser API');
    const severe = (await driver.manage().logs().get('browser')).filter((entry) => entry.level.name === 'SEVERE');
    expect(severe.map((entry) => entry.message)).toEqual([]);
  }, 90000);
});
