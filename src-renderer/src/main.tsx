import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { connectEvents } from './app/events';
import { appMounted } from './app/mounted';
import { loadEngineStatus, loadJobs } from './features/generation/actions';
import { loadModelLibrary } from './features/models/actions';
import { removeBootView, whenGridPainted } from './features/grid/painted';
import { firstProjectShown, loadProjects } from './features/projects/actions';

connectEvents();
// Ready once the projects are in and the app listens to its keys (the boot script's answers can make the first come first).
void Promise.all([loadProjects(), appMounted]).then(() => {
  document.documentElement.dataset.ready = 'true';
});
// The host's picture of the first screenful goes when the grid has painted over it (a project
// without images, or another view, paints no grid: then after a moment).
void appMounted.then(() => whenGridPainted(1000)).then(removeBootView);
// The grid's first screenful goes first; the rest of start-up follows as soon as it is painted (1.5 s at most).
void Promise.race([firstProjectShown, new Promise((resolve) => setTimeout(resolve, 1500))]).then(() => {
  void loadEngineStatus();
  void loadJobs();
  // The first-run choices and downloads still running (they go on across restarts) show from the start.
  void loadModelLibrary();
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
