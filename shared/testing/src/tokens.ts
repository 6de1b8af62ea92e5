import { createTokenIssuer } from '@holdfast/auth';

/** The shared secret test tokens are signed with (the edges under test verify with it). */
export const TEST_TOKEN_SECRET = 'holdfast-test-secret-0123456789-abcdefghijklmnop';

const issuer = createTokenIssuer({ algorithm: 'HS256', secret: TEST_TOKEN_SECRET });

/** A valid token for a session (and consumer), signed like the edges under test expect. */
export async function tokenFor(
  sessionId: string,
  options: { consumerId?: string; ttlSeconds?: number } = {},
): Promise<string> {
  const { token } = await issuer.issue({ sessionId, ...options });
  return token;
}
