import { aiConfig, aiConfigFrom } from '../../../nodes/glimpser-ai/schema';
import { currentVersion } from '../../../nodes/shared/config';

const OPENAI = {
  version: 1,
  name: '',
  baseUrl: 'https://api.openai.com/v1',
  model: 'gpt-4o-mini',
  timeout: 30,
  maxConcurrent: 2,
  requestsPerHour: 0,
  requestsPerDay: 0,
  tokensPerHour: 0,
  tokensPerDay: 0,
  inputPrice: 0,
  outputPrice: 0,
};

describe('glimpser-ai node settings across versions', () => {
  it('is at version 1, the first release, with no migrations yet', () => {
    expect(currentVersion(aiConfig.schema)).toBe(1);
    expect(aiConfig.migrations).toEqual([]);
  });

  it('loads a version 1 config node as a flow saved it, Node-RED keys and all', () => {
    const v1 = {
      id: 'p1',
      type: 'glimpser-ai',
      _users: ['d1'],
      version: 1,
      name: 'Ollama',
      baseUrl: 'http://localhost:11434/v1',
      model: 'qwen2.5vl',
      timeout: 120,
      maxConcurrent: 1,
      requestsPerHour: 60,
      requestsPerDay: 500,
      tokensPerHour: 0,
      tokensPerDay: 1000000,
      inputPrice: 0.15,
      outputPrice: 0.6,
    };
    expect(aiConfigFrom(v1)).toEqual({
      ...OPENAI,
      name: 'Ollama',
      baseUrl: 'http://localhost:11434/v1',
      model: 'qwen2.5vl',
      timeout: 120,
      maxConcurrent: 1,
      requestsPerHour: 60,
      requestsPerDay: 500,
      tokensPerDay: 1000000,
      inputPrice: 0.15,
      outputPrice: 0.6,
    });
  });

  it("reads a node saved without a version as version 1 with the first release's defaults (OpenAI, gpt-4o-mini)", () => {
    expect(aiConfigFrom({ id: 'p1', type: 'glimpser-ai' })).toEqual(OPENAI);
  });

  it('reads numbers typed as text, and a base URL without blanks or trailing slashes', () => {
    expect(aiConfigFrom({ version: '1', timeout: '45', maxConcurrent: '4', inputPrice: '0.5', baseUrl: ' http://localhost:8080/v1// ' })).toMatchObject({
      version: 1,
      timeout: 45,
      maxConcurrent: 4,
      inputPrice: 0.5,
      baseUrl: 'http://localhost:8080/v1',
    });
  });

  it.each([
    [{ baseUrl: 'ftp://example' }, /^glimpser-ai setting "baseUrl" must match pattern .* \(expected an http\(s\) URL such as https:\/\/api\.openai\.com\/v1/],
    [{ model: '' }, 'glimpser-ai setting "model" must NOT have fewer than 1 characters (expected a model name such as gpt-4o-mini or llava)'],
    [{ maxConcurrent: 1.5 }, 'glimpser-ai setting "maxConcurrent" must be integer'],
    [{ apiKey: 'sk-in-the-flow' }, 'glimpser-ai setting "apiKey" must NOT have additional properties'],
    [{ version: 2 }, 'glimpser-ai setting "version" is 2: this Glimpser reads versions 1 to 1'],
  ])('refuses %j with a message naming the setting', (def, message) => {
    expect(() => aiConfigFrom(def)).toThrow(message);
  });
});
