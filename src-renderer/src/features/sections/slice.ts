/** The current project's page sections and their colour check, as the core last reported them. */
import type { Section, SectionCheck } from '../../../../src-main/core/api/index';
import type { Slice } from '../../store/types';

export interface SectionsSlice {
  sections: Section[];
  checks: SectionCheck[];
  setSections(sections: Section[], checks: SectionCheck[]): void;
}

export const createSectionsSlice: Slice<SectionsSlice> = (set) => ({
  sections: [],
  checks: [],
  setSections: (sections, checks) => set({ sections, checks }),
});
