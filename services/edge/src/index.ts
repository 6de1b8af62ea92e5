export { EdgeServer } from './edge-server.js';
export { loadEdgeConfig, edgeEnvSchema, type EdgeConfig } from './config.js';
export { decideStart, type LogState, type StartDecision } from './start-point.js';
export { FlowWindow, type WindowLimits } from './flow-window.js';
