import { toggleGenerate } from '../features/generation/actions';
import { MAX_CELL, MIN_CELL } from '../features/grid/slice';
import { openLibrary } from '../features/models';
import { openProject } from '../features/projects/actions';
import { openSettings } from '../features/settings';
import { useStore } from '../store';
import { showSideTab, sidePanelCollapsed } from './SidePanel';

export type DialogKind = 'new-project' | 'rename-project' | 'import' | 'save-preset' | 'time-cost' | 'keys' | 'export' | null;

/** Project picker, import, view switch and grid zoom: every keyboard action also has a control here. */
export function TopBar({ openDialog }: { openDialog(kind: DialogKind): void }) {
  const projects = useStore((s) => s.projects);
  const currentProjectId = useStore((s) => s.currentProjectId);
  const mode = useStore((s) => s.mode);
  const setMode = useStore((s) => s.setMode);
  const cellSize = useStore((s) => s.cellSize);
  const setCellSize = useStore((s) => s.setCellSize);
  const importing = useStore((s) => s.importing);
  const generateOpen = useStore((s) => s.generateOpen);
  const hasProject = currentProjectId !== null;

  return (
    <header className="topbar">
      <span className="brand">Onbrand</span>
      <label className="project-picker">
        <span className="visually-hidden">Project</span>
        <select
          aria-label="Project"
          value={currentProjectId ?? ''}
          onChange={(e) => void openProject(Number(e.target.value))}
          disabled={projects.length === 0}
        >
          {projects.length === 0 && <option value="">No projects</option>}
          {projects.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name} ({p.imageCount})
            </option>
          ))}
        </select>
      </label>
      <button type="button" onClick={() => openDialog('new-project')} title="New project (Ctrl+N)">
        + New project
      </button>
      <button type="button" onClick={() => openDialog('rename-project')} disabled={!hasProject} title="Rename project (F2)">
        Rename
      </button>
      <button
        type="button"
        className="primary"
        onClick={() => openDialog('import')}
        disabled={!hasProject || importing}
        title="Import images (Ctrl+I)"
      >
        Import…
      </button>
      <button
        type="button"
        aria-pressed={generateOpen}
        // A collapsed panel expands on the Generate tab; an open one closes.
        onClick={() => (generateOpen && sidePanelCollapsed.get() ? showSideTab('generate') : toggleGenerate())}
        disabled={!hasProject}
        title="Generate panel: prompt, settings and queue (Ctrl+G)"
      >
        Generate
      </button>
      <button type="button" onClick={() => openLibrary()} title="Models: download, import and remove Stable Diffusion models (Shift+M)">
        Models
      </button>
      <button type="button" onClick={() => openDialog('export')} disabled={!hasProject} title="Export to Framer, Sora or a folder (Ctrl+E)">
        Export…
      </button>
      <button type="button" onClick={() => openDialog('time-cost')} disabled={!hasProject} title="Time + Cost of this project (T)">
        Time + Cost
      </button>
      <button type="button" onClick={() => openSettings()} aria-label="Settings" title="Settings: Unsplash, language model (Ctrl+,)">
        ⚙
      </button>
      <div className="spacer" />
      <div className="segmented" role="group" aria-label="View">
        <button type="button" aria-pressed={mode === 'grid'} onClick={() => setMode('grid')} title="Grid (G)">
          Grid
        </button>
        <button type="button" aria-pressed={mode === 'loupe'} onClick={() => setMode('loupe')} disabled={!hasProject} title="Loupe (L)">
          Loupe
        </button>
        <button
          type="button"
          aria-pressed={mode === 'moodboard'}
          onClick={() => setMode('moodboard')}
          disabled={!hasProject}
          title="Mood board: references, mood and palette (B)"
        >
          Mood board
        </button>
        <button
          type="button"
          aria-pressed={mode === 'sections'}
          onClick={() => setMode('sections')}
          disabled={!hasProject}
          title="Page sections and their colour check (Shift+S)"
        >
          Sections
        </button>
      </div>
      <label className="zoom" title="Thumbnail size (- and =)">
        <span className="visually-hidden">Thumbnail size</span>
        <input type="range" min={MIN_CELL} max={MAX_CELL} value={cellSize} onChange={(e) => setCellSize(Number(e.target.value))} />
      </label>
    </header>
  );
}
