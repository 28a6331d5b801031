import type { EngineStatus } from '../../../../src-main/core/api/index';
import { useStore } from '../../store';
import { noModelInstalled } from '../models/slice';

/** onnxruntime's provider names (the engine's `cpu | cuda | dml | coreml | webgpu`) as people write them. */
const PROVIDER_LABELS: Record<string, string> = { cpu: 'CPU', cuda: 'CUDA', dml: 'DirectML', coreml: 'CoreML', webgpu: 'WebGPU' };

export function providerLabel(provider: string): string {
  return PROVIDER_LABELS[provider.toLowerCase()] ?? provider;
}

const STATE_LABELS: Record<EngineStatus['state'], string> = { idle: 'idle', loading: 'loading', running: 'generating', paused: 'paused' };

/** The tooltip: the provider in use and each one that failed before it, with the reason. */
function engineTooltip(engine: EngineStatus, noModels: boolean): string {
  const lines = [`Engine: ${STATE_LABELS[engine.state]}`];
  if (noModels) lines.push('No model installed: download or import one in Models (Shift+M).');
  else lines.push(engine.model ? `Model: ${engine.model}` : 'No model loaded yet: the first job loads it.');
  if (engine.provider) lines.push(`Execution provider: ${providerLabel(engine.provider)}`);
  if (engine.elsewhere)
    lines.push(`The queue is run by ${engine.elsewhere}: jobs added here run there, and this app takes over when it stops.`);
  if (engine.fallbacks.length > 0) lines.push('Fell back from:', ...engine.fallbacks.map((f) => `  ${f}`));
  else if (engine.provider) lines.push('No fallbacks: the first provider tried loaded.');
  return lines.join('\n');
}

/** The model and execution provider in use ("tiny-sd · CPU"), always in the status bar. */
export function EngineStatusBadge() {
  const engine = useStore((s) => s.engine);
  // Known only once `models.list` answered: until then, "no model loaded" is all there is to say.
  const noModels = useStore(noModelInstalled);
  if (!engine)
    return (
      <span className="engine" data-testid="engine-status">
        Engine…
      </span>
    );
  const text = [
    engine.model ?? (noModels ? 'No model installed' : 'No model loaded'),
    engine.provider ? providerLabel(engine.provider) : null,
  ]
    .filter(Boolean)
    .join(' · ');
  return (
    <span
      className={`engine ${engine.state}${engine.fallbacks.length > 0 ? ' fell-back' : ''}`}
      data-testid="engine-status"
      data-state={engine.state}
      data-fallbacks={engine.fallbacks.length}
      data-models={noModels ? 'none' : undefined}
      data-elsewhere={engine.elsewhere ? 'yes' : undefined}
      title={engineTooltip(engine, noModels)}
    >
      <span className="engine-dot" aria-hidden="true" />
      <span data-testid="engine-label">{text}</span>
      {engine.state !== 'idle' && <span className="engine-state"> ({STATE_LABELS[engine.state]})</span>}
      {engine.elsewhere && (
        <span className="engine-state" data-testid="engine-elsewhere">
          {' '}
          · queue run by another process
        </span>
      )}
      {engine.fallbacks.length > 0 && (
        <span className="visually-hidden">
          {' '}
          (fell back from {engine.fallbacks.length} provider{engine.fallbacks.length === 1 ? '' : 's'}; see the tooltip)
        </span>
      )}
    </span>
  );
}
