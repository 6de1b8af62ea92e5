/**
 * A real Holdfast edge (the same EdgeServer and configuration as services/edge/src/main.ts),
 * with a bench IPC channel added for memory readings after GC. Configured by the environment.
 */
import { EdgeServer, loadEdgeConfig } from '@holdfast/edge';
import { serve } from '../lib/ipc.js';
import { memoryAfterGc } from './memory.js';

const config = loadEdgeConfig();
const edge = await EdgeServer.start(config);

serve({
  info: () => ({ port: edge.port }),
  connections: () => edge.connectionCount,
  memory: () => memoryAfterGc(),
});
// The runner SIGKILLs or SIGTERMs us; a bench edge has nothing to drain.
process.on('SIGTERM', () => process.exit(0));
