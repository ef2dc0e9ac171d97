import { aiSummaryConfig, aiSummaryConfigFrom } from '../../../nodes/ai-summary/schema';
import { currentVersion } from '../../../nodes/shared/config';

const DEFAULTS = {
  version: 1,
  name: '',
  ai: '',
  schedule: '0 * * * *',
  timeZone: '',
  source: 'glimpser',
  maxItems: 200,
  previous: 3,
  fromJournal: true,
  notes: '',
};

describe('ai-summary node settings across versions', () => {
  it('is at version 1, the first release, with no migrations yet', () => {
    expect(currentVersion(aiSummaryConfig.schema)).toBe(1);
    expect(aiSummaryConfig.migrations).toEqual([]);
  });

  it('loads a version 1 node as a flow saved it, Node-RED keys and all', () => {
    const v1 = {
      id: 's1',
      type: 'ai-summary',
      z: 'tab',
      x: 540,
      y: 140,
      wires: [['debug']],
      version: 1,
      name: 'hourly brief',
      ai: 'p1',
      schedule: '0 * * * *',
      timeZone: 'Europe/Paris',
      source: 'glimpser',
      maxItems: 200,
      previous: 3,
      fromJournal: true,
      notes: 'A family house.',
    };
    expect(aiSummaryConfigFrom(v1)).toEqual({ ...DEFAULTS, name: 'hourly brief', ai: 'p1', timeZone: 'Europe/Paris', notes: 'A family house.' });
  });

  it('reads a node saved without a version as version 1 with its defaults, numbers typed as text, and a blank schedule as none', () => {
    expect(aiSummaryConfigFrom({ id: 's1', type: 'ai-summary' })).toEqual(DEFAULTS);
    expect(aiSummaryConfigFrom({ version: '1', maxItems: '50', previous: '0', schedule: '  ' })).toMatchObject({
      version: 1,
      maxItems: 50,
      previous: 0,
      schedule: '',
    });
  });

  it.each([
    [{ schedule: 'every hour' }, /cron expression "every hour" is invalid/],
    [{ timeZone: 'Mars/Olympus' }, /time zone "Mars\/Olympus" is not an IANA time zone name/],
    [{ source: 'Front Door' }, /^ai-summary setting "source" must match pattern .* \(expected a camera id such as "glimpser"/],
    [{ previous: 11 }, /^ai-summary setting "previous" must be <= 10$/],
    [{ version: 2 }, /^ai-summary setting "version" is 2: this Glimpser reads versions 1 to 1$/],
  ])('refuses %j with a message naming the setting', (def, message) => {
    expect(() => aiSummaryConfigFrom(def)).toThrow(message);
  });
});
