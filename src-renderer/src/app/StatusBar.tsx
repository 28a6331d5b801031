import { EngineStatusBadge } from '../features/generation/EngineStatusBadge';
import { selectedImage } from '../features/grid/slice';
import { ModelStatus } from '../features/models';
import { formatCount } from '../../../src-main/core/common/index';
import { useStore } from '../store';

export function StatusBar() {
  const arrived = useStore((s) => s.allImages.length);
  // While the pages of a large project stream in, the count is the project's, known from the first page.
  const streamTotal = useStore((s) => s.streamTotal);
  const count = streamTotal ?? arrived;
  const shown = useStore((s) => s.images.length);
  const selected = useStore((s) => s.selected);
  const image = useStore(selectedImage);
  const progress = useStore((s) => s.progress);
  const importing = useStore((s) => s.importing);
  const loading = useStore((s) => s.loading);

  return (
    <footer className="statusbar" data-testid="statusbar">
      <span data-testid="image-count">{loading ? 'Loading…' : `${formatCount(count)} image${count === 1 ? '' : 's'}`}</span>
      {streamTotal !== null && !loading && (
        <span className="image-stream" data-testid="image-stream">
          loading {formatCount(arrived)} of {formatCount(streamTotal)}
        </span>
      )}
      {image && (
        <span>
          {selected + 1} / {shown} · {image.fileName} · {image.width}×{image.height}
        </span>
      )}
      <span className="spacer" />
      {importing && (
        <span className="import-progress" data-testid="import-progress">
          Importing {progress ? `${progress.done} / ${progress.total}` : '…'}
          <progress max={progress?.total ?? 1} value={progress?.done ?? 0} />
        </span>
      )}
      <span className="hint">L loupe · 1–5 rate · P pick · X reject · Ctrl+Z undo · ? all keys</span>
      <EngineStatusBadge />
      <ModelStatus />
    </footer>
  );
}
