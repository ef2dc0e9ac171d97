import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { NodeAPI } from 'node-red';

/** A text of a node's locale by key below `<type>.`, with `__name__` placeholders filled from params. */
export type Translate = (key: string, params?: Record<string, string | number>) => string;

type Catalog = { [key: string]: string | Catalog };

/** The node's en-US catalog, the file Node-RED itself loads (`nodes/<type>/locales/en-US/<type>.json`). */
export function loadCatalog(type: string): Catalog {
  const file = path.join(__dirname, '..', type, 'locales', 'en-US', `${type}.json`);
  return JSON.parse(readFileSync(file, 'utf8')) as Catalog;
}

export function lookup(catalog: Catalog, key: string): string | undefined {
  let value: string | Catalog | undefined = catalog;
  for (const part of key.split('.')) value = typeof value === 'object' ? value[part] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** Fills `__name__` placeholders as Node-RED's i18next set-up does. */
export function interpolate(text: string, params: Record<string, string | number> = {}): string {
  return text.replace(/__([a-zA-Z0-9_]+)__/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/**
 * Texts through Node-RED's i18n (the user's language when the palette has it), falling back to the node's en-US
 * catalog where the runtime has none loaded (a test harness, or Node-RED answering with the key itself).
 */
export function translator(RED: NodeAPI, type: string): Translate {
  let catalog: Catalog | undefined;
  return (key, params) => {
    const full = `${type}.${key}`;
    const translated = typeof RED._ === 'function' ? RED._(full, params) : full;
    if (translated && translated !== full && !translated.endsWith(`:${full}`)) return translated;
    catalog ??= loadCatalog(type);
    const text = lookup(catalog, full);
    if (text === undefined) throw new Error(`locale key ${full} is missing from nodes/${type}/locales/en-US/${type}.json`);
    return interpolate(text, params);
  };
}
