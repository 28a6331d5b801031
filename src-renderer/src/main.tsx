import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { connectEvents, loadProjects } from './actions';
import { App } from './components/App';
import { loadEngineStatus, loadJobs } from './generation-actions';
import './styles.css';

connectEvents();
void loadEngineStatus();
void loadJobs();
void loadProjects().then(() => {
  document.documentElement.dataset.ready = 'true';
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
