import { currentVersion } from '../../../nodes/shared/config';
import { DEFAULT_RULES, ruleGateConfig, ruleGateConfigFrom } from '../../../nodes/rule-gate/schema';

const doorRules = JSON.stringify({ version: 1, rules: [{ name: 'door', when: { path: 'event.zones', op: 'contains', value: 'door' } }], default: 'block' });

describe('rule-gate node settings across versions', () => {
  it('is at version 1, the first release, with no migrations yet', () => {
    expect(currentVersion(ruleGateConfig.schema)).toBe(1);
    expect(ruleGateConfig.migrations).toEqual([]);
  });

  it('loads a version 1 node as a flow saved it, with the output count the editor stores', () => {
    const v1 = {
      id: 'g1',
      type: 'rule-gate',
      z: 'tab',
      x: 920,
      y: 260,
      outputs: 2,
      wires: [['event'], []],
      version: 1,
      name: 'what to keep',
      rules: doorRules,
    };
    const settings = ruleGateConfigFrom(v1);
    expect(settings).toMatchObject({ version: 1, name: 'what to keep', rules: doorRules });
    expect(settings.ruleSet).toMatchObject({ default: 'block', rules: [{ name: 'door' }] });
    expect(Object.keys(settings).sort()).toEqual(['name', 'ruleSet', 'rules', 'version']);
  });

  it('reads a node saved without a version or rules as version 1 passing everything', () => {
    expect(ruleGateConfigFrom({ id: 'g1', type: 'rule-gate' })).toMatchObject({
      version: 1,
      name: '',
      rules: DEFAULT_RULES,
      ruleSet: { rules: [], default: 'pass' },
    });
    expect(ruleGateConfigFrom({ version: '1', rules: '  ' }).ruleSet).toMatchObject({ rules: [], default: 'pass' });
  });

  it.each([
    [{ rules: 5 }, 'rule-gate setting "rules" must be string'],
    [{ surprise: 1 }, 'rule-gate setting "surprise" must NOT have additional properties'],
    [{ version: 2 }, 'rule-gate setting "version" is 2: this Glimpser reads versions 1 to 1'],
    [{ rules: '{"version":1,"rules":[],"default":"maybe"}' }, /^default: /],
  ])('refuses %j with a message naming the setting', (def, message) => {
    expect(() => ruleGateConfigFrom(def)).toThrow(message);
  });
});
