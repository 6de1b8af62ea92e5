/** Algorithms with a key pair: edges hold only the public key, so they cannot mint tokens. */
export type AsymmetricAlgorithm = 'RS256' | 'ES256' | 'EdDSA';
export type TokenAlgorithm = 'HS256' | AsymmetricAlgorithm;

interface ClaimConfig {
  /**
   * The `aud` claim tokens carry, and verifiers require.
   * @default 'holdfast'
   */
  audience?: string;
  /** The `iss` claim. A verifier configured with one rejects tokens without it. */
  issuer?: string;
}

export interface Hs256IssuerConfig extends ClaimConfig {
  algorithm: 'HS256';
  /** At least 32 bytes (UTF-8); its bytes are the HMAC key. `generateDevSecret()` makes one. */
  secret: string;
}

export interface AsymmetricIssuerConfig extends ClaimConfig {
  algorithm: AsymmetricAlgorithm;
  /** PKCS#8 PEM. RS256 needs RSA of 2048 bits or more, ES256 P-256, EdDSA Ed25519. */
  privateKey: string;
  /** Written to the `kid` header so verifiers holding several keys pick this one. */
  keyId?: string;
}

export type IssuerConfig = Hs256IssuerConfig | AsymmetricIssuerConfig;

export interface IssueInput {
  sessionId: string;
  consumerId?: string;
  /**
   * Lifetime from now, 1 second to 30 days.
   * @default 3600
   */
  ttlSeconds?: number;
  /** The token is refused before this instant (`nbf`). */
  notBefore?: Date;
}

export interface IssuedToken {
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export interface TokenIssuer {
  issue(input: IssueInput): Promise<IssuedToken>;
}

export interface VerifierPublicKey {
  algorithm: AsymmetricAlgorithm;
  /** SPKI PEM. */
  publicKey: string;
  /** Tokens whose `kid` header names this id are checked against this key only. */
  keyId?: string;
}

export interface VerifierConfig extends ClaimConfig {
  /** Any of them verifies, so a new secret can be rolled out before the old one is dropped. */
  hs256Secrets?: string[];
  publicKeys?: VerifierPublicKey[];
  /**
   * Clock skew allowed when checking `exp` and `nbf`, 0 to 300.
   * @default 5
   */
  clockToleranceSeconds?: number;
}

export interface ExpectedClaims {
  /** The session the client asked for; a token for another session is `token_wrong_session`. */
  sessionId?: string;
}

export interface VerifiedToken {
  sessionId: string;
  consumerId: string | undefined;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export interface TokenVerifier {
  verify(token: unknown, expected?: ExpectedClaims): Promise<VerifiedToken>;
}
