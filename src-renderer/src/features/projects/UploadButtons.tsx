import { useRef } from 'react';
import type { UploadKind } from '../../../../src-main/core/api/index';
import { canUpload, filesOfInput, uploadFiles } from './upload';

const IMAGE_TYPES = 'image/png,image/jpeg,image/webp,.png,.jpg,.jpeg,.webp';

/**
 * "Upload files…" and "Upload a folder…" (the browser host only: there a chosen file has no path
 * the app can read, so it is sent). Renders nothing in the desktop app, which has "Choose…".
 */
export function UploadButtons({ kind, disabled, onStart }: { kind: UploadKind; disabled?: boolean; onStart?(): void }) {
  const files = useRef<HTMLInputElement>(null);
  const folder = useRef<HTMLInputElement>(null);
  if (!canUpload()) return null;
  const take = (input: HTMLInputElement): void => {
    const chosen = filesOfInput(input.files);
    // Choosing the same files again must fire `change` again.
    input.value = '';
    if (chosen.length === 0) return;
    onStart?.();
    void uploadFiles(kind, chosen);
  };
  return (
    <span className="upload-buttons">
      <button type="button" className="choose" disabled={disabled} onClick={() => files.current?.click()}>
        Upload files…
      </button>
      <button type="button" className="choose" disabled={disabled} onClick={() => folder.current?.click()}>
        Upload a folder…
      </button>
      <input
        ref={files}
        type="file"
        multiple
        accept={IMAGE_TYPES}
        hidden
        data-testid={`upload-files-${kind}`}
        onChange={(e) => take(e.currentTarget)}
      />
      <input
        ref={folder}
        type="file"
        multiple
        hidden
        data-testid={`upload-folder-${kind}`}
        {...{ webkitdirectory: '' }}
        onChange={(e) => take(e.currentTarget)}
      />
    </span>
  );
}
