import { ErrorCode, HoldfastError } from '@holdfast/protocol';
import { DEFAULT_AUDIENCE } from './constants.js';

export function invalidOptions(message: string, cause?: unknown): HoldfastError {
  return new HoldfastError(ErrorCode.InvalidOptions, message, { cause });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

function optionalNonEmptyString(value: unknown, option: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    throw invalidOptions(`${option} must be a non-empty string, got ${typeName(value)}`);
  }
  return value;
}

export interface ClaimOptions {
  audience: string;
  issuer: string | undefined;
}

export function readClaimOptions(config: Record<string, unknown>): ClaimOptions {
  return {
    audience: optionalNonEmptyString(config['audience'], 'audience') ?? DEFAULT_AUDIENCE,
    issuer: optionalNonEmptyString(config['issuer'], 'issuer'),
  };
}

export function readKeyId(value: unknown, option: string): string | undefined {
  return optionalNonEmptyString(value, option);
}
