export { DEFAULT_GPU_COST_PER_HOUR, IDLE_MS, LOCAL_BACKEND, MIN_ACTIVITY_MS, SESSION_GAP_MS, splitsByBackend, TimeLog } from './timelog.js';
export { BACKGROUND_PHASES, phaseTotals, resolveTimeline, type Interval, type Segment, type Timeline } from './timeline.js';
