import { readFileSync } from 'node:fs';
import path from 'node:path';
import { By, until, type WebDriver } from 'selenium-webdriver';
import { startGlimpser, type RunningGlimpser } from '../support/glimpser-process';
import { startChromium } from '../support/chromium';

/** The editor as a person uses it: real Chromium, the real sign-in form, the Glimpser palette and a node dialog. */
describe('the Node-RED editor with the Glimpser palette', () => {
  let app: RunningGlimpser;
  let driver: WebDriver;

  beforeAll(async () => {
    app = await startGlimpser();
    driver = await startChromium();
  }, 90000);

  afterAll(async () => {
    await driver?.quit();
    await app?.stop();
  });

  it('signs in with the admin password, lists the Glimpser nodes and opens the motion dialog with its region editor', async () => {
    await driver.get(`${app.base}/editor/`);
    const username = await driver.wait(until.elementLocated(By.id('node-dialog-login-username')), 30000);
    await username.sendKeys('admin');
    await driver.findElement(By.id('node-dialog-login-password')).sendKeys(app.password);
    await driver.findElement(By.id('node-dialog-login-submit')).click();
    await driver.wait(until.elementLocated(By.css('.red-ui-palette-node[data-palette-type="motion"]')), 30000);
    for (const type of ['capture', 'motion', 'event', 'rule-gate', 'ai-describe']) {
      expect(await driver.findElements(By.css(`.red-ui-palette-node[data-palette-type="${type}"]`))).toHaveLength(1);
    }
    // The default flow's motion node: open its edit dialog as a double-click would.
    await driver.executeScript("RED.editor.edit(RED.nodes.node('glimpser-demo-motion'))");
    const canvas = await driver.wait(until.elementLocated(By.css('#motion-region-editor canvas')), 15000);
    expect(await canvas.isDisplayed()).toBe(true);
    expect(await driver.findElement(By.id('node-input-zones')).getAttribute('value')).toContain('"left"');
    // No node of the default flow is flagged invalid (an orange triangle in the editor).
    const invalid = async () =>
      (await driver.executeScript(
        "return RED.nodes.filterNodes({}).concat(RED.nodes.filterNodes({type: 'glimpser-camera'})).filter(function (n) { return n.valid === false; }).map(function (n) { return n.type + ' ' + n.id + ': ' + JSON.stringify(n.validationErrors); })",
      )) as string[];
    expect(await invalid()).toEqual([]);
    // A camera saved by the previous version (v1, without the v2 settings) imports as valid.
    const v1 = readFileSync(path.join(__dirname, '..', '..', 'examples', 'glimpser-camera', '01-rtsp-camera.json'), 'utf8');
    await driver.executeScript('RED.view.importNodes(JSON.parse(arguments[0]), { generateIds: true })', v1);
    expect(await invalid()).toEqual([]);
    const severe = (await driver.manage().logs().get('browser')).filter(
      (entry) => entry.level.name === 'SEVERE' && !/favicon|Failed to load resource/.test(entry.message),
    );
    expect(severe.map((entry) => entry.message)).toEqual([]);
  }, 90000);
});
