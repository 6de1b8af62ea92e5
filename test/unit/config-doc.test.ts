import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apiEnvSchema } from '@holdfast/api';
import { edgeEnvSchema } from '@holdfast/edge';
import { exampleAgentEnvSchema, workerEnvSchema } from '@holdfast/worker';
import { startEnvSchema } from '@holdfast/testing';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** Rows of the README's configuration table: each variable with the services that read it. */
function documented(): Map<string, Set<string>> {
  const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Development'));
  const rows = new Map<string, Set<string>>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const variables = [...(cells[1] ?? '').matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]!);
    const services = new Set((cells[2] ?? '').split(',').map((s) => s.trim()));
    for (const variable of variables) rows.set(variable, services);
  }
  return rows;
}

function keysOf(schema: { shape: Record<string, unknown> }): string[] {
  return Object.keys(schema.shape);
}

describe('the README configuration table', () => {
  const rows = documented();
  const schemas = {
    edge: keysOf(edgeEnvSchema),
    api: keysOf(apiEnvSchema),
    worker: [...keysOf(workerEnvSchema), ...keysOf(exampleAgentEnvSchema)],
    start: keysOf(startEnvSchema),
  };

  it.each(Object.entries(schemas))('lists every variable the %s reads, for that service', (service, keys) => {
    for (const key of keys) {
      expect(rows.get(key), `${key} (${service})`).toBeDefined();
      expect([...rows.get(key)!], `${key}`).toContain(service);
    }
  });

  it('lists no variable a service does not read', () => {
    for (const [variable, services] of rows) {
      for (const service of services) {
        expect(schemas[service as keyof typeof schemas], `${variable} in ${service}`).toContain(variable);
      }
    }
  });
});
