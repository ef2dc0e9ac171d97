import { writeFileSync } from 'node:fs';
import { apiDocument, documentedRoutes } from './router';

/**
 * Writes the OpenAPI document of the API (`npm run openapi` → docs/openapi.json). The document is built from the
 * route declarations alone, so this needs no running Glimpser; test/unit/openapi.test.ts fails when the committed
 * file differs from what this writes.
 */
export function openApiText(): string {
  return `${JSON.stringify(apiDocument(documentedRoutes()), null, 2)}\n`;
}

if (require.main === module) {
  const target = process.argv[2];
  if (!target) {
    process.stderr.write('usage: node dist/runtime/api/openapi-cli.js <file>\n');
    process.exit(2);
  }
  writeFileSync(target, openApiText());
  process.stdout.write(`wrote ${target}\n`);
}
