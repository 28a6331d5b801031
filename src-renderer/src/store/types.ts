import type { StateCreator } from 'zustand';
import type { EngineStatus, ImageSummary, ImportReport, Job, ModelList, PaletteEntry, Preset, Project, Reference, ReferenceReport, Section, SectionCheck, TimeSnapshot } from '../../../src-main/core/api/index';
import type { Draft } from '../draft';
import type { ModelLibrarySlice } from '../models/slice';
import type { ImageFilter, Selection, SortOrder } from './view';

export interface ProjectsSlice {
  projects: Project[];
  currentProjectId: number | null;
  setProjects(projects: Project[]): void;
  setCurrentProject(id: number | null): void;
}

export type ViewMode = 'grid' | 'loupe' | 'compare' | 'moodboard' | 'sections';

export interface ImagesSlice extends Selection {
  /** Every image of the project, in capture order. */
  allImages: ImageSummary[];
  /** The images shown: `allImages` filtered and sorted (see view.ts). Indexes point here. */
  images: ImageSummary[];
  filter: ImageFilter;
  sort: SortOrder;
  loading: boolean;
  /** Bumped when an image's thumbnail is re-made, so the grid reloads it. */
  thumbRevisions: Record<number, number>;
  setImages(images: ImageSummary[]): void;
  /** The project's images fetched again (after the event stream was cut): the selection stays. */
  refreshImages(images: ImageSummary[]): void;
  /** Appends images that arrived (import, generation) without moving the selection. */
  addImages(images: ImageSummary[]): void;
  /** Replaces images by id (rating, flag, path, sharpness changed); the selection stays stable. */
  updateImages(images: ImageSummary[]): void;
  setThumbnail(imageId: number, thumbPath: string): void;
  /** Selects one image (and only it). */
  select(index: number): void;
  /** Shift+click, Shift+arrows: selects from the anchor to here. */
  extendTo(index: number): void;
  /** Ctrl+click: adds or removes one image. */
  toggleSelected(index: number): void;
  selectAll(): void;
  setFilter(patch: Partial<ImageFilter>): void;
  setSort(sort: SortOrder): void;
  setLoading(loading: boolean): void;
}

/** One rating/flag change as undo and redo replay it. */
export interface MarkStep {
  imageId: number;
  before: { rating: number; flag: ImageSummary['flag'] };
  after: { rating: number; flag: ImageSummary['flag'] };
}

/** Zoom to 100 %: `cx`, `cy` are the image point (0..1) at the centre of the view. */
export interface Zoom {
  on: boolean;
  cx: number;
  cy: number;
}

/** Culling: undo history, auto-advance, what the cells show, zoom and compare. */
export interface CurationSlice {
  /** Each entry is one user action (a key press or click), possibly over many images. */
  past: MarkStep[][];
  future: MarkStep[][];
  /** Lightroom's Caps Lock: move to the next image after rating or flagging. */
  autoAdvance: boolean;
  showSharpness: boolean;
  lightsOut: boolean;
  zoom: Zoom;
  /** The images compare shows side by side (2 to 4). */
  compareIds: number[];
  pushHistory(steps: MarkStep[]): void;
  /** Moves the last action from past to future (undo) or back (redo); returns it. */
  takeUndo(): MarkStep[] | undefined;
  takeRedo(): MarkStep[] | undefined;
  setAutoAdvance(on: boolean): void;
  setShowSharpness(on: boolean): void;
  setLightsOut(on: boolean): void;
  setZoom(zoom: Partial<Zoom>): void;
  setCompareIds(ids: number[]): void;
}

export interface ViewSlice {
  mode: ViewMode;
  /** Thumbnail cell size in CSS pixels (the grid's zoom). */
  cellSize: number;
  /** Columns the grid shows now (for Up/Down and PageUp/PageDown). */
  columns: number;
  /** Rows that fit in the grid's viewport. */
  visibleRows: number;
  setMode(mode: ViewMode): void;
  setGridShape(columns: number, visibleRows: number): void;
  setCellSize(size: number): void;
}

export interface ImportProgress {
  importId: string;
  done: number;
  total: number;
  current: string;
}

export interface ImportSlice {
  importing: boolean;
  progress: ImportProgress | null;
  lastReport: ImportReport | null;
  startImport(): void;
  setProgress(progress: ImportProgress): void;
  finishImport(report: ImportReport | null): void;
  dismissReport(): void;
}

export interface NoticeSlice {
  /** A one-line message for the user (errors from calls), cleared by dismissing it. */
  notice: { kind: 'error' | 'info'; text: string } | null;
  notify(kind: 'error' | 'info', text: string): void;
  dismissNotice(): void;
}

/** The Generate panel: whether it shows, the form as typed, and what the form offers. */
/** The side panel's tabs: the Generate form or the prompt Composer. */
export type SideTab = 'generate' | 'composer';

export interface GenerationSlice {
  generateOpen: boolean;
  sideTab: SideTab;
  draft: Draft;
  /** Null until `models.list` answers. */
  models: ModelList | null;
  /** The current project's presets, the built-in Brand loop first. */
  presets: Preset[];
  /** Field-note hints for the settings being edited. */
  hints: string[];
  setGenerateOpen(open: boolean): void;
  setSideTab(tab: SideTab): void;
  editDraft(patch: Partial<Draft>): void;
  setModels(models: ModelList): void;
  setPresets(presets: Preset[]): void;
  setHints(hints: string[]): void;
}

/** The latest sampling step of a job (kept when it finishes, dropped when it is queued again). */
export interface JobProgress {
  /** The image of the batch being sampled (0-based). */
  index: number;
  step: number;
  steps: number;
  etaMs: number;
  /** The latest latent preview (a PNG data URL); kept across steps that carry none. */
  preview: string | null;
}

/** The generation queue as the core reports it: jobs of every project, the engine's state. */
export interface QueueSlice {
  /** Every job the core knows, all projects (the queue is shared); views filter by project. */
  jobs: Job[];
  jobProgress: Record<number, JobProgress>;
  /** Null until `engine.status` answers. */
  engine: EngineStatus | null;
  setJobs(jobs: Job[]): void;
  /** Replaces jobs by id: `job.updated` events, which arrive in order, are the latest word. */
  upsertJobs(jobs: Job[]): void;
  /** Adds jobs not known yet; a known one may already be newer (its events came first). */
  addJobs(jobs: Job[]): void;
  setJobProgress(jobId: number, progress: Omit<JobProgress, 'preview'> & { preview: string | null }): void;
  setEngine(status: EngineStatus): void;
}

/** The Time + Cost view's snapshot while it is open (null when closed). */
export interface TimeSlice {
  time: TimeSnapshot | null;
  setTime(time: TimeSnapshot | null): void;
}

/** The current project's mood board and page sections, as the core last reported them. */
export interface BoardSlice {
  refs: Reference[];
  /** The board's aggregated palette (`refs.palette`). */
  boardPalette: PaletteEntry[];
  /** What the last drop or Add… did, item by item. */
  refReport: ReferenceReport | null;
  sections: Section[];
  checks: SectionCheck[];
  setRefs(refs: Reference[], palette: PaletteEntry[]): void;
  setRefReport(report: ReferenceReport | null): void;
  setSections(sections: Section[], checks: SectionCheck[]): void;
}

export type Store = ProjectsSlice & ImagesSlice & CurationSlice & ViewSlice & ImportSlice & NoticeSlice & GenerationSlice & QueueSlice & TimeSlice & BoardSlice & ModelLibrarySlice;
export type Slice<T> = StateCreator<Store, [], [], T>;
