/**
 * The prototype-poisoning key a body has (`"__proto__"` or `"constructor.prototype"`) when it is
 * valid JSON that Fastify's parser refused for that key; undefined when the body is not valid
 * JSON at all (then "not valid JSON" is the right message). Only called for refused bodies.
 */
export function poisonedKey(body: Buffer): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  // An explicit stack: the body is within the body limit, but its nesting is the client's choice.
  const stack: unknown[] = [value];
  for (let next = stack.pop(); stack.length > 0 || next !== undefined; next = stack.pop()) {
    if (typeof next !== 'object' || next === null) continue;
    if (Array.isArray(next)) {
      for (const item of next as unknown[]) stack.push(item);
      continue;
    }
    for (const [key, item] of Object.entries(next)) {
      if (key === '__proto__') return '"__proto__"';
      if (key === 'constructor' && typeof item === 'object' && item !== null && 'prototype' in item) {
        return '"constructor.prototype"';
      }
      stack.push(item);
    }
  }
  return undefined;
}
