import type { StateCreator } from 'zustand';
import type { ImageSummary, ImportReport, Project } from '../../../src-main/core/api/index';

export interface ProjectsSlice {
  projects: Project[];
  currentProjectId: number | null;
  setProjects(projects: Project[]): void;
  setCurrentProject(id: number | null): void;
}

export type ViewMode = 'grid' | 'loupe';

export interface ImagesSlice {
  images: ImageSummary[];
  /** Index into `images` of the selected image, or -1. */
  selected: number;
  loading: boolean;
  /** Bumped when an image's thumbnail is re-made, so the grid reloads it. */
  thumbRevisions: Record<number, number>;
  setImages(images: ImageSummary[]): void;
  /** Appends images that arrived (import, generation) without moving the selection. */
  addImages(images: ImageSummary[]): void;
  setThumbnail(imageId: number, thumbPath: string): void;
  select(index: number): void;
  setLoading(loading: boolean): void;
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

export type Store = ProjectsSlice & ImagesSlice & ViewSlice & ImportSlice & NoticeSlice;
export type Slice<T> = StateCreator<Store, [], [], T>;
