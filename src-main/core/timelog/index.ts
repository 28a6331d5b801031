export { DEFAULT_GPU_COST_PER_HOUR, IDLE_MS, MIN_ACTIVITY_MS, SESSION_GAP_MS, TimeLog } from './timelog.js';
export { BACKGROUND_PHASES, phaseTotals, resolveTimeline, type Interval, type Segment, type Timeline } from './timeline.js';
