import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configurationMarkdown } from '../../runtime/config-docs';

it('docs/configuration.md matches the config schema (regenerate with npm run docs)', () => {
  expect(readFileSync(path.join(__dirname, '..', '..', 'docs', 'configuration.md'), 'utf8')).toBe(configurationMarkdown());
});
