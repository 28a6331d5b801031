export { DEFAULT_GPU_COST_PER_HOUR, MIN_ACTIVITY_MS, SESSION_GAP_MS, TimeLog } from './timelog.js';
