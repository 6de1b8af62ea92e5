import type { z } from 'zod';

/**
 * Validate a service's environment against its schema. Throws one Error that names every bad
 * variable, so an operator fixes them all in one go; `service` says whose configuration it is.
 */
export function parseEnv<Schema extends z.ZodType>(
  schema: Schema,
  env: NodeJS.ProcessEnv,
  service: string,
): z.output<Schema> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`,
  );
  throw new Error(`invalid ${service} configuration:\n  ${problems.join('\n  ')}`);
}
