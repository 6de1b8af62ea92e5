/**
 * A real Holdfast edge (the same EdgeServer and configuration as services/edge/src/main.ts),
 * with a bench IPC channel added for memory readings after GC and the per-message stages
 * (edge-stages.ts). Configured by the environment.
 */
import { EdgeServer, loadEdgeConfig } from '@holdfast/edge';
import { serve } from '../lib/ipc.js';
import { StageRecorder } from '../lib/stages.js';
import { recordEdgeStages } from './edge-stages.js';
import { heapSnapshotAfterGc, memoryAfterGc } from './memory.js';

const config = loadEdgeConfig();
const edge = await EdgeServer.start(config);
const stages = new StageRecorder();
const setTracing = recordEdgeStages(edge, stages);

serve({
  info: () => ({ port: edge.port }),
  connections: () => edge.connectionCount,
  memory: () => memoryAfterGc(),
  heapSnapshot: heapSnapshotAfterGc,
  /** Start a stage window (per-message stages on or off, event-loop delay always). */
  resetStages: ({ trace }: { trace: boolean }) => {
    setTracing(trace);
    stages.reset();
  },
  stages: () => stages.read(),
});
// The runner SIGKILLs or SIGTERMs us; a bench edge has nothing to drain.
process.on('SIGTERM', () => process.exit(0));
