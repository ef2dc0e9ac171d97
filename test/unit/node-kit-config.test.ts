import { Type } from '@sinclair/typebox';
import { readNodeConfig, type NodeConfigSpec } from '../../nodes/shared/config';

const Schema = Type.Object(
  {
    version: Type.Literal(3),
    name: Type.String({ maxLength: 8 }),
    fps: Type.Number({ exclusiveMinimum: 0 }),
    rotate: Type.Union([Type.Literal(0), Type.Literal(90)]),
    label: Type.String(),
    mode: Type.Union([Type.Literal('a'), Type.Literal('b')]),
  },
  { additionalProperties: false },
);

const steps: string[] = [];
const spec: NodeConfigSpec<typeof Schema> = {
  type: 'sample',
  schema: Schema,
  v1: { name: '', fps: 1, title: 'old' },
  migrations: [
    { to: 2, change: 'title is now label', up: ({ title, ...rest }) => (steps.push('2'), { ...rest, label: title }) },
    { to: 3, change: 'adds mode', up: (config) => (steps.push('3'), { ...config, mode: 'b' }) },
  ],
  defaults: { version: 3, name: '', fps: 1, rotate: 0, label: '', mode: 'a' },
  hints: { fps: ' (frames per second)' },
};

beforeEach(() => (steps.length = 0));

describe('readNodeConfig', () => {
  it('strips Node-RED keys, reads a definition without a version as v1 and runs every migration in order', () => {
    const config = readNodeConfig(spec, {
      id: 'n',
      type: 'sample',
      z: 't',
      x: 1,
      y: 2,
      wires: [[]],
      g: 'grp',
      info: '',
      outputs: 2,
      credentials: {},
      title: 'kept',
    });
    expect(config).toEqual({ version: 3, name: '', fps: 1, rotate: 0, label: 'kept', mode: 'b' });
    expect(steps).toEqual(['2', '3']);
  });

  it('runs only the migrations past the saved version, and fills a missing current setting with its default', () => {
    expect(readNodeConfig(spec, { version: 2, label: 'x' })).toEqual({ version: 3, name: '', fps: 1, rotate: 0, label: 'x', mode: 'b' });
    expect(steps).toEqual(['3']);
    expect(readNodeConfig(spec, { version: 3, label: 'y' })).toMatchObject({ mode: 'a' });
  });

  it('reads numbers typed as text where the schema holds numbers, and only there', () => {
    expect(readNodeConfig(spec, { version: '3', fps: ' 2.5 ', rotate: '90', name: '12', label: '7' })).toMatchObject({
      version: 3,
      fps: 2.5,
      rotate: 90,
      name: '12',
      label: '7',
    });
  });

  it.each([
    [{ version: 3, surprise: 1 }, 'sample setting "surprise" must NOT have additional properties'],
    [{ version: 3, fps: 'fast' }, 'sample setting "fps" must be number (frames per second)'],
    [{ version: 3, fps: 0 }, 'sample setting "fps" must be > 0 (frames per second)'],
    [{ version: 4 }, 'sample setting "version" is 4: this Glimpser reads versions 1 to 3'],
    [{ version: 'two' }, 'sample setting "version" is "two": this Glimpser reads versions 1 to 3'],
  ])('refuses %j naming the setting and what was expected', (def, message) => {
    expect(() => readNodeConfig(spec, def)).toThrow(message);
  });

  it("runs the spec's own check after the schema", () => {
    const checked: NodeConfigSpec<typeof Schema> = {
      ...spec,
      check: (config) => {
        if (config.label === 'bad') throw new Error('label "bad" is not allowed');
      },
    };
    expect(() => readNodeConfig(checked, { version: 3, label: 'bad' })).toThrow('label "bad" is not allowed');
  });
});
