import { useEffect, useLayoutEffect, useRef, useState, type DragEvent } from 'react';
import { getClient } from '../api/client';
import { CurationBar } from '../features/curation/CurationBar';
import { ExportDialog } from '../features/export/ExportDialog';
import { savePreset } from '../features/generation/actions';
import { Grid } from '../features/grid/Grid';
import { Compare } from '../features/loupe/Compare';
import { Loupe } from '../features/loupe/Loupe';
import { ImportModelDialog, ModelFolderDialog, ModelLibraryDialog, noModelInstalled, openLibrary } from '../features/models';
import { MoodBoard } from '../features/moodboard/MoodBoard';
import { ImportReportPanel } from '../features/projects/ImportReportPanel';
import { createProject, importPaths, renameProject } from '../features/projects/actions';
import { uploadDropped } from '../features/projects/upload';
import { UploadButtons } from '../features/projects/UploadButtons';
import { SectionsView } from '../features/sections/SectionsView';
import { SettingsHost } from '../features/settings';
import { TimeCostDialog } from '../features/timecost/TimeCostDialog';
import { modalOpen } from '../shared/use-modal';
import { useStore } from '../store';
import { FormDialog } from './Dialog';
import { KeysDialog } from './KeysDialog';
import { showSideTab, SidePanel } from './SidePanel';
import { StatusBar } from './StatusBar';
import { TopBar, type DialogKind } from './TopBar';
import { giveKeysBackAfterUse, handleKey } from './keyboard';
import { markMounted } from './mounted';

export function App() {
  const [dialog, setDialog] = useState<DialogKind>(null);
  const mode = useStore((s) => s.mode);
  const projects = useStore((s) => s.projects);
  const currentProjectId = useStore((s) => s.currentProjectId);
  const imageCount = useStore((s) => s.allImages.length);
  const lightsOut = useStore((s) => s.lightsOut);
  const loading = useStore((s) => s.loading);
  const notice = useStore((s) => s.notice);
  const generateOpen = useStore((s) => s.generateOpen);
  const dismissNotice = useStore((s) => s.dismissNotice);
  const libraryOpen = useStore((s) => s.libraryOpen);
  const modelDialog = useStore((s) => s.modelDialog);
  const noModels = useStore(noModelInstalled);
  const current = projects.find((p) => p.id === currentProjectId);

  // Read at key time, not from the effect's closure: the listener of the render before a dialog
  // closed must not swallow the first key after it (the effect re-runs only after the paint).
  const dialogRef = useRef<DialogKind>(dialog);
  dialogRef.current = dialog;

  useEffect(() => giveKeysBackAfterUse(), []);

  // A layout effect: the keys are listened to from the commit that first shows the grid, before it is painted.
  useLayoutEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (dialogRef.current || modalOpen()) return;
      const handled = handleKey(event, {
        newProject: () => setDialog('new-project'),
        renameProject: () => setDialog('rename-project'),
        importImages: () => setDialog('import'),
        timeCost: () => setDialog('time-cost'),
        exportImages: () => setDialog('export'),
        cheatSheet: () => setDialog('keys'),
      });
      if (handled) event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    markMounted();
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const onDrop = (event: DragEvent): void => {
    event.preventDefault();
    if (currentProjectId === null) return;
    const client = getClient();
    const paths = Array.from(event.dataTransfer.files)
      .map((f) => client.pathForFile(f))
      .filter((p): p is string => !!p);
    if (paths.length > 0) void importPaths(paths);
    // The browser host: the files themselves are sent (features/projects/upload.ts).
    else if (!uploadDropped(event.dataTransfer, 'images'))
      useStore.getState().notify('info', 'This browser cannot tell Onbrand where dropped files are: use Import… and give their folder.');
  };

  return (
    <div className={lightsOut ? 'app lights-out' : 'app'} onDragOver={(e) => e.preventDefault()} onDrop={onDrop}>
      <TopBar openDialog={setDialog} />
      <div className="workspace">
        <main className="content">
          {currentProjectId === null ? (
            <div className="empty" data-testid="no-project">
              <h1>Start a project</h1>
              <p>A project holds one brand loop: its mood board, generations, picks and exports.</p>
              <button type="button" className="primary" onClick={() => setDialog('new-project')}>
                + New project
              </button>
              {noModels && (
                <p className="first-run-hint" data-testid="no-model-hint">
                  To generate, Onbrand also needs a Stable Diffusion model.{' '}
                  <button type="button" className="link-button" onClick={() => openLibrary()}>
                    Get a model…
                  </button>
                </p>
              )}
            </div>
          ) : mode === 'moodboard' ? (
            <MoodBoard />
          ) : mode === 'sections' ? (
            <SectionsView />
          ) : imageCount === 0 && !loading ? (
            <div className="empty" data-testid="empty-project">
              <h1>{current?.name}</h1>
              <p>No images yet. Import files or folders of PNG, JPEG or WebP images (Ctrl+I), drop them here, or generate some (Ctrl+G).</p>
              <div className="inline">
                <button type="button" className="primary" onClick={() => setDialog('import')}>
                  Import…
                </button>
                {!generateOpen && (
                  <button type="button" onClick={() => showSideTab('generate')}>
                    Open the Generate panel
                  </button>
                )}
              </div>
            </div>
          ) : (
            <div className="curation">
              <CurationBar onCheatSheet={() => setDialog('keys')} />
              <div className="curation-view">{mode === 'loupe' ? <Loupe /> : mode === 'compare' ? <Compare /> : <Grid />}</div>
            </div>
          )}
        </main>
        <SidePanel onSavePreset={() => setDialog('save-preset')} />
      </div>
      <StatusBar />
      <ImportReportPanel />
      {notice && (
        <div className={`notice ${notice.kind}`} role="alert" data-testid="notice">
          {notice.text}
          <button type="button" className="link" onClick={dismissNotice} aria-label="Dismiss">
            ✕
          </button>
        </div>
      )}
      {dialog === 'new-project' && (
        <FormDialog
          title="New project"
          submitLabel="Create"
          fields={[
            { name: 'name', label: 'Name', placeholder: 'Spring campaign' },
            {
              name: 'folder',
              label: 'Folder (optional)',
              placeholder: 'Default: the Onbrand projects folder',
              hint: 'An absolute path; created if missing.',
              choose: [{ label: 'Choose…', request: { select: 'folder', title: 'Project folder' } }],
            },
          ]}
          onSubmit={(v) => createProject(v.name ?? '', v.folder ?? '')}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog === 'rename-project' && current && (
        <FormDialog
          title="Rename project"
          submitLabel="Rename"
          fields={[{ name: 'name', label: 'Name', initial: current.name }]}
          onSubmit={(v) => renameProject(current.id, v.name ?? '')}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog === 'save-preset' && (
        <FormDialog
          title="Save as preset"
          submitLabel="Save"
          fields={[
            {
              name: 'name',
              label: 'Preset name',
              placeholder: 'Teal portraits',
              hint: 'Saves the sampler, steps, CFG, size, batch size, LoRA weight and negative prompt for this project.',
            },
          ]}
          onSubmit={(v) => savePreset(v.name ?? '')}
          onClose={() => setDialog(null)}
        />
      )}
      <SettingsHost />
      {libraryOpen && <ModelLibraryDialog />}
      {modelDialog === 'import' && <ImportModelDialog />}
      {modelDialog === 'folder' && <ModelFolderDialog />}
      {dialog === 'keys' && <KeysDialog onClose={() => setDialog(null)} />}
      {dialog === 'time-cost' && <TimeCostDialog onClose={() => setDialog(null)} />}
      {dialog === 'export' && <ExportDialog onClose={() => setDialog(null)} />}
      {dialog === 'import' && (
        <FormDialog
          title={`Import into ${current?.name ?? 'project'}`}
          submitLabel="Import"
          fields={[
            {
              name: 'paths',
              label: 'Files or folders',
              placeholder: '/Users/me/Pictures/references',
              multiline: true,
              hint: 'One absolute path per line. Folders are searched recursively; files are copied into the project. Ctrl+Enter imports.',
              choose: [
                { label: 'Choose files…', request: { select: 'files', multiple: true, filter: 'images', title: 'Import images' } },
                { label: 'Choose folders…', request: { select: 'folder', multiple: true, title: 'Import folders' } },
              ],
            },
          ]}
          onSubmit={async (v) => {
            const paths = (v.paths ?? '')
              .split('\n')
              .map((p) => p.trim())
              .filter(Boolean);
            if (paths.length === 0) return 'Give at least one file or folder.';
            void importPaths(paths);
            return null;
          }}
          onClose={() => setDialog(null)}
        >
          <UploadButtons kind="images" onStart={() => setDialog(null)} />
        </FormDialog>
      )}
    </div>
  );
}
