/** The projects and the open one, and importing images into it. */
import type { ImportReport, Project } from '../../../../src-main/core/api/index';
import type { Slice } from '../../store/types';

export interface ProjectsSlice {
  projects: Project[];
  currentProjectId: number | null;
  setProjects(projects: Project[]): void;
  setCurrentProject(id: number | null): void;
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

export const createProjectsSlice: Slice<ProjectsSlice> = (set) => ({
  projects: [],
  currentProjectId: null,
  setProjects: (projects) => set({ projects }),
  setCurrentProject: (id) =>
    set((state) => ({
      currentProjectId: id,
      allImages: [],
      images: [],
      selected: -1,
      selection: [],
      anchor: -1,
      // The board and sections views follow the user to another project; the image views start over.
      mode: state.mode === 'moodboard' || state.mode === 'sections' ? state.mode : 'grid',
      past: [],
      future: [],
      compareIds: [],
      refs: [],
      boardPalette: [],
      refReport: null,
      sections: [],
      checks: [],
    })),
});

export const createImportSlice: Slice<ImportSlice> = (set) => ({
  importing: false,
  progress: null,
  lastReport: null,
  startImport: () => set({ importing: true, progress: null, lastReport: null }),
  setProgress: (progress) => set({ progress }),
  finishImport: (report) => set({ importing: false, progress: null, lastReport: report }),
  dismissReport: () => set({ lastReport: null }),
});
