import { By, type WebDriver, type WebElement } from 'selenium-webdriver';
import { startAlertReceiver, type AlertReceiver } from '../support/alert-receiver';
import { apiToken, editorLogin, startGlimpser, type RunningGlimpser } from '../support/glimpser-process';
import { DESKTOP, expectNoBrowserProblems, MOBILE, openPage, saveScreenshot, signInThroughForm, startAppBrowser, waitForCss } from '../support/web-app';

/**
 * An alert's delivery ledger with real deliveries: the default flow's webhook notifier is enabled (through the
 * editor's admin API, as a person deploys it) and pointed at a receiver on loopback, which answers 400 to every
 * alert until the test "fixes" it for that alert. So each demo crossing's alert is dead-lettered with the
 * receiver's reason, and the operator's Retry turns it delivered: the page hears both over /api/live.
 */
const PASSWORD = 'admin-password-for-deliveries';
/** The demo camera's period (30 s) and the first crossing after the deploy, with room for a busy machine. */
const NEXT_CROSSING_MS = 100000;

interface AlertListed {
  id: string;
  msgType: string;
  deliveries: { pending: number; delivered: number; dead: number };
}

describe("an alert's deliveries in the web app", () => {
  let app: RunningGlimpser;
  let receiver: AlertReceiver;
  let token: string;
  /** Alerts the receiver accepts (200); it refuses every other alert with 400, a permanent failure. */
  const fixed = new Set<string>();
  /** Every request the receiver answered: the alert it carried and the status given. */
  const answered: { alert: string; status: number }[] = [];

  beforeAll(async () => {
    receiver = await startAlertReceiver();
    receiver.reply = (request) => {
      // The webhook's JSON body is the Standard Webhooks envelope: the alert is `data`.
      const alert = (request.body as unknown as { data: { id: string } }).data.id;
      const status = fixed.has(alert) ? 200 : 400;
      answered.push({ alert, status });
      return { status };
    };
    app = await startGlimpser(undefined, { GLIMPSER_ADMIN_PASSWORD: PASSWORD });
    token = await apiToken(app);
    await enableWebhook(app, receiver.url);
  }, 180000);

  afterAll(async () => {
    await app?.stop();
    await receiver?.close();
  });

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${app.base}/api${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`GET /api${path} answered ${res.status}`);
    return (await res.json()) as T;
  };

  /** Attempt rows of the one webhook delivery on the open alert page: [outcome, status code, error], oldest first. */
  const attemptRows = async (driver: WebDriver): Promise<string[][]> => {
    const rows = await driver.findElements(By.css('[data-testid=delivery] tbody tr'));
    return Promise.all(rows.map(async (row) => (await Promise.all((await row.findElements(By.css('td'))).map((td) => td.getText()))).slice(2)));
  };

  /**
   * On the open alert page: the webhook row is dead-lettered with the receiver's 400 and the CAP document is shown;
   * the receiver is fixed, Retry is pressed, and the row turns delivered in the same document, its attempts one more.
   */
  async function retryDeadDelivery(driver: WebDriver, alertId: string, screenshot: string): Promise<void> {
    const row = await waitForCss(driver, '[data-testid=delivery][data-state=dead]', 20000);
    expect(await row.findElement(By.css('strong')).getText()).toBe(receiver.url);
    expect(await row.findElement(By.css('.problem')).getText()).toMatch(/^Dead-lettered: the webhook receiver answered HTTP 400 Bad Request/);
    expect(await driver.findElement(By.css('.channel h3')).getText()).toMatch(/webhook/i);
    expect(await row.findElement(By.css('p')).getText()).toMatch(/dead-lettered\s+1 attempt\b/);
    expect(await attemptRows(driver)).toEqual([['failed, dead-lettered', '400', expect.stringMatching(/HTTP 400 Bad Request/)]]);
    const cap = await (await waitForCss(driver, '[data-testid=cap-xml]')).getText();
    expect(cap).toContain('urn:oasis:names:tc:emergency:cap:1.2');
    const { alert } = await api<{ alert: { identifier: string } }>(`/alerts/${alertId}`);
    expect(cap).toContain(`<identifier>${alert.identifier}</identifier>`);
    expect(await (await waitForCss(driver, '[data-testid=delivery-summary]')).getText()).toMatch(/0 sent\s+0 retrying\s+1 dead-lettered/);

    fixed.add(alertId);
    await driver.executeScript('window.__sameDocument = true');
    const retry = await waitForCss(driver, '[data-testid=retry]');
    expect(await retry.getText()).toBe('Retry 1 dead-lettered');
    await retry.click();
    await driver.wait(
      async () => (await attemptRows(driver)).length === 2 && (await stateOf(driver)) === 'delivered',
      30000,
      'the retried delivery did not show as delivered',
    );
    expect(await driver.executeScript('return window.__sameDocument === true')).toBe(true);
    expect(answered.filter((a) => a.alert === alertId).map((a) => a.status)).toEqual([400, 200]);
    const delivered = await driver.findElement(By.css('[data-testid=delivery]'));
    expect(await delivered.findElement(By.css('.badge')).getText()).toBe('sent');
    expect(await delivered.findElements(By.css('.problem'))).toHaveLength(0);
    expect((await attemptRows(driver))[1]).toEqual(['sent', '200', '—']);
    expect(await delivered.getText()).toMatch(/\b2 attempts\b/);
    expect(await driver.findElements(By.css('[data-testid=retry]'))).toHaveLength(0);
    expect(await driver.findElement(By.css('[data-testid=delivery-summary]')).getText()).toMatch(/1 sent\s+0 retrying\s+0 dead-lettered/);
    // A phone shows the ledger below the alert's facts: bring its attempts into the picture.
    if ((await driver.executeScript<number>('return window.innerWidth')) < 600)
      await driver.executeScript(
        "window.scrollTo(0, arguments[0].getBoundingClientRect().top + window.scrollY - document.querySelector('header').offsetHeight - 8)",
        await driver.findElement(By.css('.channel')),
      );
    await saveScreenshot(driver, screenshot);
  }

  describe('at desktop size', () => {
    let driver: WebDriver;
    let alertId: string;
    beforeAll(async () => {
      driver = await startAppBrowser(DESKTOP);
      await signInThroughForm(driver, app.base, 'admin', PASSWORD);
    }, 180000);
    afterAll(async () => {
      await driver?.quit();
    });

    it(
      "lists the next crossing's alert live with its webhook delivery dead-lettered",
      async () => {
        await openPage(driver, app.base, '/alerts', 'Alerts');
        await driver.wait(async () => !(await driver.findElements(By.css('.loading'))).length, 15000);
        const before = new Set(await Promise.all((await driver.findElements(By.css('[data-testid=alert]'))).map((e) => e.getAttribute('data-id'))));
        await driver.executeScript('window.__sameDocument = true');
        const arrived = await driver.wait(
          async () => {
            for (const alert of await driver.findElements(By.css('[data-testid=alert]'))) {
              const id = await alert.getAttribute('data-id');
              if (before.has(id)) continue;
              const summary = await alert.findElement(By.css('[data-testid=delivery-summary]')).getText();
              if (id && /0 sent\s+0 retrying\s+1 dead-lettered/.test(summary)) return id;
            }
            return null;
          },
          NEXT_CROSSING_MS,
          'no new alert with a dead-lettered delivery appeared in the list',
        );
        expect(await driver.executeScript('return window.__sameDocument === true')).toBe(true);
        if (!arrived) throw new Error('driver.wait resolved without an alert');
        alertId = arrived;
        expect(await driver.findElement(By.css(`[data-testid=alert][data-id="${alertId}"]`)).getText()).toMatch(/on demo/);
        expect(answered.find((a) => a.alert === alertId)?.status).toBe(400);
        await expectNoBrowserProblems(driver);
      },
      NEXT_CROSSING_MS + 30000,
    );

    it('shows the ledger and the CAP document; Retry turns the row delivered without a reload', async () => {
      await (await waitForCss(driver, `[data-testid=alert][data-id="${alertId}"] a`)).click();
      await retryDeadDelivery(driver, alertId, 'alert-deliveries-desktop');

      // Back in the list, the alert's counts say it was sent.
      await driver.navigate().back();
      const item = await waitForCss(driver, `[data-testid=alert][data-id="${alertId}"]`);
      await driver.wait(async () => /1 sent\s+0 retrying\s+0 dead-lettered/.test(await summaryOf(item)), 15000, 'the list does not show the alert as sent');
      await expectNoBrowserProblems(driver);
    }, 90000);
  });

  describe('at mobile size', () => {
    let driver: WebDriver;
    beforeAll(async () => {
      driver = await startAppBrowser(MOBILE);
      await signInThroughForm(driver, app.base, 'admin', PASSWORD);
    }, 180000);
    afterAll(async () => {
      await driver?.quit();
    });

    it(
      'shows the dead-lettered row with its reason, and Retry delivers it',
      async () => {
        // Any other alert the receiver refused: the ended crossing's Cancel, or the next crossing's Alert.
        const start = Date.now();
        let dead: AlertListed | undefined;
        while (!dead && Date.now() - start < NEXT_CROSSING_MS) {
          const page = await api<{ alerts: AlertListed[] }>('/alerts?camera=demo&status=dead&limit=50');
          dead = page.alerts.find((a) => !fixed.has(a.id) && a.deliveries.dead === 1);
          if (!dead) await new Promise((resolve) => setTimeout(resolve, 1000));
        }
        if (!dead) throw new Error(`no dead-lettered alert within ${NEXT_CROSSING_MS} ms; the receiver answered ${JSON.stringify(answered)}`);

        await openPage(driver, app.base, '/alerts?status=dead', 'Alerts');
        const item = await waitForCss(driver, `[data-testid=alert][data-id="${dead.id}"]`);
        expect(await summaryOf(item)).toMatch(/0 sent\s+0 retrying\s+1 dead-lettered/);
        await item.findElement(By.css('a')).click();
        await retryDeadDelivery(driver, dead.id, 'alert-deliveries-mobile');
        await expectNoBrowserProblems(driver);
      },
      NEXT_CROSSING_MS + 60000,
    );
  });
});

async function stateOf(driver: WebDriver): Promise<string | null> {
  const rows = await driver.findElements(By.css('[data-testid=delivery]'));
  return rows.length === 1 ? rows[0].getAttribute('data-state') : null;
}

async function summaryOf(item: WebElement): Promise<string> {
  return item.findElement(By.css('[data-testid=delivery-summary]')).getText();
}

/** Turns the default flow's webhook notifier on, pointed at `url`, the way the editor deploys a changed node. */
async function enableWebhook(app: RunningGlimpser, url: string): Promise<void> {
  const editor = { authorization: `Bearer ${await editorLogin(app)}`, 'Node-RED-API-Version': 'v1' };
  const flows = (await (await fetch(`${app.base}/editor/flows`, { headers: editor })).json()) as Array<Record<string, unknown> & { id: string; type: string }>;
  const webhook = flows.find((n) => n.type === 'notify-webhook');
  if (!webhook) throw new Error('the default flow has no notify-webhook node');
  Object.assign(webhook, { d: false, name: 'Webhook (test receiver)', url });
  const deploy = await fetch(`${app.base}/editor/flows`, {
    method: 'POST',
    headers: { ...editor, 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'nodes' },
    body: JSON.stringify(flows),
  });
  if (deploy.status !== 204 && deploy.status !== 200) throw new Error(`deploy answered ${deploy.status}: ${await deploy.text()}`);
}
