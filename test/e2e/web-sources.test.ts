import { readFileSync } from 'node:fs';
import path from 'node:path';
import { By, until, type WebDriver, type WebElement } from 'selenium-webdriver';
import { basic, editorLogin, startGlimpser, type RunningGlimpser } from '../support/glimpser-process';
import { RtspTestServer } from '../support/rtsp-server';
import { eventually } from '../support/tools';
import { DESKTOP, expectNoBrowserProblems, MOBILE, openPage, saveScreenshot, signInThroughForm, startAppBrowser, waitForCss } from '../support/web-app';

/**
 * Issue 14, acceptance 5: an admin adds an RTSP camera through the app's form, without the editor. The test camera
 * (GStreamer's RTSP server, a moving ball) wants a username and password, as real ones do.
 */

const ADMIN_PASSWORD = 'admin-password-for-sources';
const CAMERA_LOGIN = { username: 'viewer', password: 'camera-pass-42' };

describe('adding a source from the web app', () => {
  const camera = new RtspTestServer({ width: 640, height: 360, fps: 10, credentials: CAMERA_LOGIN });
  let app: RunningGlimpser;
  let driver: WebDriver;

  beforeAll(async () => {
    await camera.start();
    app = await startGlimpser(undefined, { GLIMPSER_ADMIN_PASSWORD: ADMIN_PASSWORD });
    driver = await startAppBrowser(DESKTOP);
    await signInThroughForm(driver, app.base, 'admin', ADMIN_PASSWORD);
  }, 180000);

  afterAll(async () => {
    await driver?.quit();
    await app?.stop();
    await camera.stop();
  });

  const asAdmin = { authorization: basic('admin', ADMIN_PASSWORD) };
  const getJson = async <T>(url: string, headers: Record<string, string> = asAdmin): Promise<T> => {
    const res = await fetch(`${app.base}${url}`, { headers });
    expect({ url, status: res.status }).toEqual({ url, status: 200 });
    return (await res.json()) as T;
  };
  const editorTabs = async (): Promise<Array<Record<string, unknown>>> => {
    const token = await editorLogin(app);
    return getJson<Array<Record<string, unknown>>>('/editor/flows', { authorization: `Bearer ${token}`, 'Node-RED-API-Version': 'v1' });
  };

  /** Types into a field of the form, replacing what it held. */
  async function fill(key: string, text: string): Promise<void> {
    const input = await waitForCss(driver, `[data-testid=field-${key}]`);
    await input.clear();
    await input.sendKeys(text);
  }

  async function pressTest(): Promise<WebElement> {
    await driver.findElement(By.css('[data-testid=test-source]')).click();
    return driver.wait(until.elementLocated(By.css('[data-testid=test-snapshot], [data-testid=test-problem]')), 60000, 'no test answer within 60 s');
  }

  it('a wrong password shows "401 from the camera" before anything is saved', async () => {
    await openPage(driver, app.base, '/sources/new', 'Add a source');
    await (await waitForCss(driver, '[data-testid=template-rtsp-camera]')).click();
    await fill('name', 'Back gate');
    await fill('url', camera.url);
    await fill('username', CAMERA_LOGIN.username);
    await fill('password', 'not-the-password');
    const answer = await pressTest();
    expect(await answer.getAttribute('data-testid')).toBe('test-problem');
    expect(await answer.getText()).toMatch(/^401 from the camera: the username or password is wrong/);
    expect(await answer.getText()).not.toContain('not-the-password');
    expect(await getJson<unknown[]>('/api/sources')).toEqual([]);
    expect((await editorTabs()).filter((n) => n.type === 'tab').map((n) => n.label)).not.toContain('Back gate');
    // The 502 of that test is the answer this test asked for; nothing else may fail.
    await expectNoBrowserProblems(driver, [/\/api\/sources\/test - Failed to load resource: the server responded with a status of 502/]);
  }, 120000);

  it('the right password shows the live snapshot before saving; Add makes the tab and opens the camera page', async () => {
    await fill('password', CAMERA_LOGIN.password);
    const answer = await pressTest();
    expect(await answer.getAttribute('data-testid')).toBe('test-snapshot');
    // The template's camera makes 1280×720 pictures, whatever size the camera sends.
    await driver.wait(async () => Number(await answer.getAttribute('naturalWidth')) === 1280, 10000, 'the snapshot is not a decoded 1280 px picture');
    expect(await answer.getAttribute('src')).toMatch(/^blob:/);
    expect(await getJson<unknown[]>('/api/sources')).toEqual([]);
    await driver.executeScript("arguments[0].closest('figure').scrollIntoView({ block: 'end' })", answer);
    await saveScreenshot(driver, 'sources-desktop');

    await driver.findElement(By.css('[data-testid=add-source]')).click();
    await driver.wait(until.urlMatches(/\/cameras\/back-gate$/), 30000);

    const flows = await editorTabs();
    const tab = flows.find((n) => n.type === 'tab' && n.label === 'Back gate')!;
    expect(tab).toBeDefined();
    const cameraNode = flows.find((n) => n.type === 'glimpser-camera' && n.z === tab.id)!;
    expect(cameraNode).toMatchObject({ cameraId: 'back-gate', source: 'url', url: camera.url });
    expect(flows.filter((n) => n.z === tab.id).map((n) => n.type)).toEqual(
      expect.arrayContaining(['motion', 'ai-describe', 'rule-gate', 'event', 'cap-alert']),
    );
    // The camera's password is in the encrypted credentials file only.
    const stored = readFileSync(path.join(app.dataDir, 'node-red', 'flows.json'), 'utf8');
    expect(stored).toContain('back-gate');
    expect(stored).not.toContain(CAMERA_LOGIN.password);
    expect(readFileSync(path.join(app.dataDir, 'node-red', 'flows_cred.json'), 'utf8')).not.toContain(CAMERA_LOGIN.password);
    expect(await getJson<Array<{ id: string; camera: string }>>('/api/sources')).toEqual([expect.objectContaining({ id: tab.id, camera: 'back-gate' })]);

    // The ball moves all the time: the camera's first motion event reaches the events timeline, which is open on
    // the new camera's filter and receives it live (or lists it, when it came before the page).
    await openPage(driver, app.base, '/events?camera=back-gate', 'Events');
    const item = await waitForCss(driver, '[data-testid=event]', 90000);
    expect({ id: await item.getAttribute('data-id'), type: await item.getAttribute('data-type') }).toEqual({ id: expect.any(String), type: 'motion' });
    const event = await eventually(
      async () => (await getJson<{ events: Array<{ id: string; camera: string; type: string }> }>('/api/events?camera=back-gate')).events[0],
      10000,
      'the motion event on the API',
    );
    expect(event).toMatchObject({ camera: 'back-gate', type: 'motion' });
    await expectNoBrowserProblems(driver);
  }, 180000);

  it("the same templates are in the editor's Import > Examples > glimpser > templates", async () => {
    const headers = { authorization: `Bearer ${await editorLogin(app)}` };
    const listed = await getJson<Array<{ fn: string }>>('/editor/library/examples/flows/glimpser/templates', headers);
    expect(listed.map((f) => f.fn)).toEqual(['01-rtsp-camera', '02-video-file', '03-online-video', '04-website', '05-snapshot-url', '06-edge-device']);
    const flow = await getJson<Array<{ type: string }>>('/editor/library/examples/flows/glimpser/templates/01-rtsp-camera', headers);
    expect(flow.map((n) => n.type)).toEqual(expect.arrayContaining(['tab', 'glimpser-camera', 'motion', 'ai-describe', 'rule-gate', 'event', 'cap-alert']));
  }, 60000);

  it('lists the added source on a phone', async () => {
    const phone = await startAppBrowser(MOBILE);
    try {
      await signInThroughForm(phone, app.base, 'admin', ADMIN_PASSWORD);
      await openPage(phone, app.base, '/sources/new', 'Add a source');
      const list = await waitForCss(phone, '[data-testid=source-list]');
      expect(await list.getText()).toContain('Back gate');
      await (await waitForCss(phone, '[data-testid=template-rtsp-camera]')).click();
      await saveScreenshot(phone, 'sources-mobile');
      await expectNoBrowserProblems(phone);
    } finally {
      await phone.quit();
    }
  }, 120000);
});
