import { createTokenIssuer } from '@holdfast/auth';
import { TEST_TOKEN_SECRET } from './edge-process.js';

const issuer = createTokenIssuer({ algorithm: 'HS256', secret: TEST_TOKEN_SECRET });

/** A valid token for a session (and consumer), signed like the edges under test expect. */
export async function tokenFor(
  sessionId: string,
  options: { consumerId?: string; ttlSeconds?: number } = {},
): Promise<string> {
  const { token } = await issuer.issue({ sessionId, ...options });
  return token;
}
