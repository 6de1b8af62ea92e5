import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Handler } from './handler.js';

/**
 * Import the handler named by HANDLER_MODULE: a file path (absolute, or relative to the
 * working directory) or a package name, whose default export is a `Handler`. Without one,
 * the example agent. Errors name HANDLER_MODULE.
 */
export async function loadHandler(specifier: string | undefined): Promise<Handler> {
  if (specifier === undefined) {
    const example = await import('./handlers/example-agent.js');
    // Read its settings now, so a bad EXAMPLE_AGENT_* value stops start-up by name.
    return example.createExampleAgent(example.exampleAgentOptionsFromEnv());
  }
  const isPath = specifier.startsWith('.') || isAbsolute(specifier);
  const target = isPath ? pathToFileURL(resolve(specifier)).href : specifier;
  let module: { default?: unknown };
  try {
    module = (await import(target)) as { default?: unknown };
  } catch (error) {
    throw new Error(`HANDLER_MODULE: could not import ${JSON.stringify(specifier)}: ${String(error)}`, {
      cause: error,
    });
  }
  if (typeof module.default !== 'function') {
    throw new Error(
      `HANDLER_MODULE: ${JSON.stringify(specifier)} must export a handler function as its default export, got ${typeof module.default}`,
    );
  }
  return module.default as Handler;
}
