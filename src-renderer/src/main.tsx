import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { connectEvents } from './app/events';
import { loadEngineStatus, loadJobs } from './features/generation/actions';
import { loadModelLibrary } from './features/models/actions';
import { loadProjects } from './features/projects/actions';
import './styles.css';

connectEvents();
void loadEngineStatus();
void loadJobs();
// The first-run choices and downloads still running (they go on across restarts) show from the start.
void loadModelLibrary();
void loadProjects().then(() => {
  document.documentElement.dataset.ready = 'true';
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
