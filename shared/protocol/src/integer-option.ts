import { ErrorCode } from './error-codes.js';
import { HoldfastError } from './holdfast-error.js';

/**
 * The one rule for integer options (counts, sizes, milliseconds) of the Holdfast libraries and
 * services: a safe integer within bounds, or an error naming the option, its bounds and what it
 * got. Libraries that throw their own error type (the client SDK) take the sentence from
 * integerOptionProblem(); everyone else calls validateIntegerOption().
 */
export interface IntegerBounds {
  /** @default 0 */
  readonly min?: number;
  /** @default no upper bound */
  readonly max?: number;
}

/** Why `value` is not a valid integer option `name`, or undefined when it is. */
export function integerOptionProblem(
  name: string,
  value: unknown,
  bounds: IntegerBounds = {},
): string | undefined {
  const { min = 0, max } = bounds;
  const valid =
    typeof value === 'number' &&
    Number.isSafeInteger(value) &&
    value >= min &&
    (max === undefined || value <= max);
  if (valid) return undefined;
  const range = max === undefined ? `>= ${min}` : `from ${min} to ${max}`;
  return `${name} must be an integer ${range}, got ${String(value)}`;
}

/** Returns `value` if it is a valid integer option; throws InvalidOptions naming it otherwise. */
export function validateIntegerOption(name: string, value: unknown, bounds: IntegerBounds = {}): number {
  const problem = integerOptionProblem(name, value, bounds);
  if (problem !== undefined) throw new HoldfastError(ErrorCode.InvalidOptions, problem);
  return value as number;
}
