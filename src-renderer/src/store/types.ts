/** The store's type: every feature's slice together. Each slice lives with its feature. */
import type { StateCreator } from 'zustand';
import type { NoticeSlice } from '../app/notices';
import type { ViewSlice } from '../app/view-slice';
import type { CurationSlice } from '../features/curation/slice';
import type { GenerationSlice, QueueSlice } from '../features/generation/slice';
import type { GridSlice, ImagesSlice } from '../features/grid/slice';
import type { ModelLibrarySlice } from '../features/models/slice';
import type { MoodBoardSlice } from '../features/moodboard/slice';
import type { ImportSlice, ProjectsSlice } from '../features/projects/slice';
import type { UploadSlice } from '../features/projects/upload-slice';
import type { SectionsSlice } from '../features/sections/slice';
import type { SettingsSlice } from '../features/settings/slice';
import type { TimeSlice } from '../features/timecost/slice';

export type Store = ProjectsSlice &
  ImagesSlice &
  GridSlice &
  CurationSlice &
  ViewSlice &
  ImportSlice &
  NoticeSlice &
  GenerationSlice &
  QueueSlice &
  TimeSlice &
  MoodBoardSlice &
  SectionsSlice &
  ModelLibrarySlice &
  UploadSlice &
  SettingsSlice;
export type Slice<T> = StateCreator<Store, [], [], T>;
