import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { connectEvents, loadProjects } from './actions';
import { App } from './components/App';
import { loadEngineStatus, loadJobs } from './generation-actions';
import { loadModelLibrary } from './models/actions';
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
