import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { CAMERA_SOURCES } from '../../nodes/glimpser-camera/schema';

/**
 * Source templates: one Node-RED flow tab per file in flows/templates/ (camera → motion or scene change → AI describe →
 * rule gate → event → cap-alert), importable as it is from the editor (examples/templates/ holds the same files). The
 * tab node carries a `template` member that says what the form asks for; the example values in the camera node are
 * what the fields replace.
 */

/** The fields a template may ask for; each lands in one place of the flow (see instantiateTemplate). */
export const FIELD_KEYS = ['name', 'url', 'path', 'username', 'password'] as const;
export type FieldKey = (typeof FIELD_KEYS)[number];

export const TemplateFieldSchema = Type.Object(
  {
    key: Type.Union(FIELD_KEYS.map((key) => Type.Literal(key))),
    label: Type.String({ minLength: 1, maxLength: 64 }),
    kind: Type.Union([Type.Literal('text'), Type.Literal('url'), Type.Literal('path'), Type.Literal('password')]),
    required: Type.Boolean(),
    maxLength: Type.Integer({ minimum: 1, maximum: 4096 }),
    /** For `url` fields: the schemes the camera kind can read, without "://". */
    schemes: Type.Optional(Type.Array(Type.String({ pattern: '^[a-z]+$' }), { minItems: 1 })),
    placeholder: Type.Optional(Type.String({ maxLength: 256 })),
    help: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);
export type TemplateField = Static<typeof TemplateFieldSchema>;

export const TemplateInfoSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z][a-z0-9-]{0,31}$' }),
    name: Type.String({ minLength: 1, maxLength: 64 }),
    description: Type.String({ minLength: 1, maxLength: 512 }),
    fields: Type.Array(TemplateFieldSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);
export type TemplateInfo = Static<typeof TemplateInfoSchema>;

export type FlowNode = Record<string, unknown> & { id: string; type: string; z?: string; wires?: string[][] };

export interface SourceTemplate extends TemplateInfo {
  /** The tab's nodes (the tab itself left out), as in the file. */
  nodes: FlowNode[];
  /** The one glimpser-camera node: what the fields fill in and what a test builds its frame source from. */
  camera: FlowNode & { source: (typeof CAMERA_SOURCES)[number] };
  file: string;
}

/** Checks one template file's flow: one tab with its info, one camera, wires and references inside the tab. */
export function parseTemplate(file: string, flow: unknown): SourceTemplate {
  const fail = (why: string): never => {
    throw new Error(`${file}: ${why}`);
  };
  if (!Array.isArray(flow)) fail('expected a JSON array of Node-RED nodes');
  const all = flow as FlowNode[];
  const tabs = all.filter((n) => n.type === 'tab');
  if (tabs.length !== 1) fail(`expected exactly one tab node, found ${tabs.length}`);
  const tab = tabs[0];
  const info: unknown = tab.template;
  if (!Value.Check(TemplateInfoSchema, info)) fail(`tab.template: ${[...Value.Errors(TemplateInfoSchema, info)][0]?.message ?? 'invalid'}`);
  const { id, name, description, fields } = info as TemplateInfo;
  if (!fields.some((f) => f.key === 'name')) fail('tab.template.fields: a template asks for a name');
  if (new Set(fields.map((f) => f.key)).size !== fields.length) fail('tab.template.fields: a key is listed twice');
  const nodes = all.filter((n) => n !== tab);
  const ids = new Set(all.map((n) => n.id));
  if (ids.size !== all.length) fail('node ids are not unique');
  for (const node of nodes) {
    if (node.z !== tab.id) fail(`node ${node.id}: z must be the tab ${tab.id}, so the whole source is one tab`);
    for (const port of node.wires ?? []) for (const target of port) if (!ids.has(target)) fail(`node ${node.id}: wired to ${target}, not in this file`);
  }
  const cameras = nodes.filter((n) => n.type === 'glimpser-camera');
  if (cameras.length !== 1) fail(`expected exactly one glimpser-camera node, found ${cameras.length}`);
  const camera = cameras[0] as SourceTemplate['camera'];
  if (!CAMERA_SOURCES.includes(camera.source)) fail(`camera source ${JSON.stringify(camera.source)} is not a camera kind`);
  if ((camera as { credentials?: unknown }).credentials !== undefined) fail('the camera node must not carry credentials');
  return { id, name, description, fields, nodes, camera, file };
}

/** Every template in the folder, sorted by file name; a broken file stops the start with its name and the reason. */
export function loadTemplates(dir: string): SourceTemplate[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => parseTemplate(path.join(path.basename(dir), f), JSON.parse(readFileSync(path.join(dir, f), 'utf8'))));
}

/** What the form sends: the template's field values. */
export type FieldValues = Partial<Record<FieldKey, string>>;

/** A camera id made from a name ("Front door" → front-door), unique among those taken. */
export function cameraIdFor(name: string, taken: ReadonlySet<string>): string {
  const base =
    name
      .normalize('NFKD')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40)
      .replace(/-+$/, '') || 'camera';
  let id = base;
  for (let n = 2; taken.has(id); n += 1) id = `${base}-${n}`;
  return id;
}

/** Environment variable on the tab that marks it as made from a template (it survives editing in the editor). */
export const TEMPLATE_ENV = 'GLIMPSER_SOURCE_TEMPLATE';

export interface NewTab {
  label: string;
  info: string;
  env: Array<{ name: string; type: 'str'; value: string }>;
  nodes: FlowNode[];
}

export interface InstanceOptions {
  cameraId: string;
  /** Fresh node ids (Node-RED's 16 hex digits). */
  newId: () => string;
  /** An AI config node that already exists outside any tab: the new tab uses it instead of its own. */
  sharedAi?: string;
}

/**
 * The template's tab with the fields filled in and fresh node ids: the name becomes the tab label, the camera's name and
 * (as a slug) its id; url and path go into the camera node; username and password into its credentials block only.
 */
export function instantiateTemplate(template: SourceTemplate, fields: FieldValues, options: InstanceOptions): NewTab {
  const name = fields.name ?? template.name;
  const drop = new Set(options.sharedAi ? template.nodes.filter((n) => n.type === 'glimpser-ai').map((n) => n.id) : []);
  const ids = new Map(template.nodes.filter((n) => !drop.has(n.id)).map((n) => [n.id, options.newId()]));
  const ref = (value: unknown): unknown =>
    typeof value === 'string' && drop.has(value) ? options.sharedAi : typeof value === 'string' ? (ids.get(value) ?? value) : value;
  const nodes = template.nodes
    .filter((n) => !drop.has(n.id))
    .map((n) => {
      const node: FlowNode = { ...structuredClone(n), id: ids.get(n.id)! };
      delete node.z;
      for (const key of ['camera', 'ai'] as const) if (key in node) node[key] = ref(node[key]);
      if (node.wires) node.wires = node.wires.map((port) => port.map((target) => ids.get(target)!));
      if (n === template.camera) {
        Object.assign(node, { name, cameraId: options.cameraId });
        if (fields.url !== undefined) node.url = fields.url;
        if (fields.path !== undefined) node.path = fields.path;
        if (fields.username) node.credentials = { username: fields.username, password: fields.password ?? '' };
      }
      return node;
    });
  return { label: name, info: template.description, env: [{ name: TEMPLATE_ENV, type: 'str', value: template.id }], nodes };
}
