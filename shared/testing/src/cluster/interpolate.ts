/**
 * Docker Compose variable interpolation, as the Compose specification defines it for the forms
 * Holdfast's compose file uses: `$$`, `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`,
 * `${NAME:?error}`, `${NAME?error}`, `${NAME:+replacement}`, `${NAME+replacement}`.
 * Defaults are literal text (no nested variables).
 */
export type Variables = Readonly<Record<string, string | undefined>>;

const PATTERN = /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

export class MissingVariableError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
    this.name = 'MissingVariableError';
  }
}

/** Expands the variables in one string; a required variable that is missing throws, naming it. */
export function interpolate(text: string, vars: Variables): string {
  return text.replace(
    PATTERN,
    (
      _match,
      dollar: string | undefined,
      name: string | undefined,
      op: string | undefined,
      arg = '',
      bare,
    ) => {
      if (dollar !== undefined) return '$';
      const variable = (name ?? bare) as string;
      const value = vars[variable];
      const unset = value === undefined;
      const empty = unset || value === '';
      switch (op) {
        case undefined:
          return value ?? '';
        case ':-':
          return empty ? arg : value;
        case '-':
          return unset ? arg : value;
        case ':?':
        case '?':
          if (op === ':?' ? empty : unset) {
            throw new MissingVariableError(
              variable,
              arg || `required variable ${variable} is missing a value`,
            );
          }
          return value as string;
        case ':+':
          return empty ? '' : arg;
        case '+':
          return unset ? '' : arg;
        default:
          throw new Error(`unsupported interpolation operator ${op} for ${variable}`);
      }
    },
  );
}

/** The variables a text requires (`${NAME:?...}` or `${NAME?...}`), in order of appearance. */
export function requiredVariables(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(PATTERN)) {
    const [, , name, op] = match;
    if (name !== undefined && (op === ':?' || op === '?')) names.add(name);
  }
  return [...names];
}
