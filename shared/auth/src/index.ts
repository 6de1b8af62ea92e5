export { createTokenIssuer } from './issuer.js';
export { createTokenVerifier } from './verifier.js';
export { generateDevSecret } from './dev-secret.js';
export {
  DEFAULT_AUDIENCE,
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  DEFAULT_TOKEN_TTL_SECONDS,
  MAX_CLOCK_TOLERANCE_SECONDS,
  MAX_TOKEN_LENGTH,
  MAX_TOKEN_TTL_SECONDS,
  MIN_HS256_SECRET_BYTES,
} from './constants.js';
export type {
  AsymmetricAlgorithm,
  AsymmetricIssuerConfig,
  ExpectedClaims,
  Hs256IssuerConfig,
  IssuedToken,
  IssueInput,
  IssuerConfig,
  TokenAlgorithm,
  TokenIssuer,
  TokenVerifier,
  VerifiedToken,
  VerifierConfig,
  VerifierPublicKey,
} from './types.js';
