/** Page sections (Framer): background colour, slot size, the paired image, and the colour check. */
import { z } from 'zod';
import { exportPixels as px, hexColour as hex, id, position } from '../common/index.js';

export interface Section {
  id: number;
  projectId: number;
  name: string;
  position: number;
  backgroundHex: string | null;
  slotWidth: number;
  slotHeight: number;
  imageId: number | null;
}

export interface SectionCheck {
  sectionId: number;
  name: string;
  status: 'pass' | 'warn' | 'unpaired' | 'no_background';
  backgroundHex: string | null;
  imageId: number | null;
  /** The paired image's dominant colour. */
  dominantHex: string | null;
  deltaE: number | null;
  message: string;
  /** The pick whose dominant colour is closest to the background, when the paired one is off. */
  suggestion: { imageId: number; fileName: string; dominantHex: string; deltaE: number } | null;
}

export const sectionRequests = {
  'sections.list': { input: z.object({ projectId: id }).strict(), output: null as unknown as Section[] },
  'sections.save': {
    input: z
      .object({
        projectId: id,
        /** Absent: a new section at the end. */
        sectionId: id.optional(),
        name: z.string().trim().min(1, 'must not be empty').max(60, 'must be at most 60 characters'),
        backgroundHex: hex.nullable(),
        slotWidth: px,
        slotHeight: px,
      })
      .strict(),
    output: null as unknown as Section,
  },
  'sections.remove': { input: z.object({ sectionId: id }).strict(), output: null as unknown as { removed: boolean } },
  'sections.move': { input: z.object({ sectionId: id, position }).strict(), output: null as unknown as Section[] },
  'sections.pair': { input: z.object({ sectionId: id, imageId: id.nullable() }).strict(), output: null as unknown as Section },
  'sections.check': {
    input: z.object({ projectId: id, tolerance: z.number().min(1).max(50).optional() }).strict(),
    output: null as unknown as SectionCheck[],
  },
} as const;
