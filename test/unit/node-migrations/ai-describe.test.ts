import { DEFAULT_PROMPT } from '../../../core/describe/prompt';
import { aiDescribeConfig, aiDescribeConfigFrom } from '../../../nodes/ai-describe/schema';
import { currentVersion } from '../../../nodes/shared/config';

describe('ai-describe node settings across versions', () => {
  it('is at version 1, the first release, with no migrations yet', () => {
    expect(currentVersion(aiDescribeConfig.schema)).toBe(1);
    expect(aiDescribeConfig.migrations).toEqual([]);
  });

  it('loads a version 1 node as a flow saved it, reading the empty prompt as the default one', () => {
    const v1 = {
      id: 'd1',
      type: 'ai-describe',
      z: 'tab',
      x: 640,
      y: 100,
      wires: [['event']],
      version: 1,
      name: '',
      ai: 'p1',
      prompt: '',
      notes: 'A driveway.',
      timeZone: 'Europe/Paris',
      maxSide: 768,
      maxKB: 1024,
    };
    expect(aiDescribeConfigFrom(v1)).toEqual({
      version: 1,
      name: '',
      ai: 'p1',
      prompt: DEFAULT_PROMPT,
      notes: 'A driveway.',
      timeZone: 'Europe/Paris',
      maxSide: 768,
      maxKB: 1024,
    });
  });

  it('reads a node saved without a version, or with numbers as text, as version 1 with its defaults', () => {
    expect(aiDescribeConfigFrom({ id: 'd1', type: 'ai-describe' })).toEqual({
      version: 1,
      name: '',
      ai: '',
      prompt: DEFAULT_PROMPT,
      notes: '',
      timeZone: '',
      maxSide: 768,
      maxKB: 1024,
    });
    expect(aiDescribeConfigFrom({ version: '1', maxSide: '512', maxKB: '256', prompt: 'What is at {camera}?' })).toMatchObject({
      version: 1,
      maxSide: 512,
      maxKB: 256,
      prompt: 'What is at {camera}?',
    });
  });

  it.each([
    [{ prompt: 'Look at {cam}' }, 'prompt template uses {cam}: the variables are {camera}, {notes}, {datetime}'],
    [{ timeZone: 'Mars/Olympus' }, 'time zone "Mars/Olympus" is not an IANA time zone name'],
    [{ maxSide: 10 }, 'ai-describe setting "maxSide" must be >= 64'],
    [{ surprise: 1 }, 'ai-describe setting "surprise" must NOT have additional properties'],
    [{ version: 2 }, 'ai-describe setting "version" is 2: this Glimpser reads versions 1 to 1'],
  ])('refuses %j with a message naming the setting', (def, message) => {
    expect(() => aiDescribeConfigFrom(def)).toThrow(message);
  });
});
