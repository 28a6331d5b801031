/** An upload from the browser (dropped or chosen files) while it is sent: what, and how far. */
import type { UploadKind } from '../../../../src-main/core/api/index';
import type { Slice } from '../../store/types';

export interface UploadProgress {
  kind: UploadKind;
  /** Files being sent, in all requests. */
  files: number;
  /** Bytes sent so far, of `total`, over all requests. */
  sent: number;
  total: number;
  /** True once the last byte is sent and the host is importing. */
  importing: boolean;
}

export interface UploadSlice {
  upload: UploadProgress | null;
  setUpload(upload: UploadProgress | null): void;
}

export const createUploadSlice: Slice<UploadSlice> = (set) => ({
  upload: null,
  setUpload: (upload) => set({ upload }),
});
