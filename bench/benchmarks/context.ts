import type { Progress } from '../lib/progress.js';
import type { SystemOptions } from '../lib/systems.js';
import type { Profile } from '../profiles.js';
import type { Row } from '../results.js';

export interface BenchContext {
  readonly profile: Profile;
  readonly progress: Progress;
  readonly systems: SystemOptions;
  readonly rows: Row[];
  /** token-streams records per-message stages too (--trace-stages). */
  readonly traceStages: boolean;
}
