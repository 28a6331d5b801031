import { useEffect, useState } from 'react';
import type { Histogram, ImageGeneration, ImageInfo, ImageSummary } from '../../../../src-main/core/api/index';
import { getClient } from '../../api/client';
import { localFlag } from '../../shared/local-flag';
import { SharpnessMark } from '../../shared/Marks';
import { errorText } from '../../shared/report';
import { useStore } from '../../store';
import { refineKey } from '../generation/actions';
import { DraftInfoRow } from '../generation/DraftMark';

/** Whether the loupe shows its info panel: remembered across images and sessions (I toggles it). */
export const infoPanelSetting = localFlag('onbrand.loupe.infoPanel', false);

export function toggleInfoPanel(): void {
  infoPanelSetting.toggle();
}

/** I: in the loupe, shows or hides the info panel; elsewhere, opens the loupe on the selected image with the panel shown. */
export function infoPanelKey(): void {
  const state = useStore.getState();
  if (state.mode === 'loupe') {
    toggleInfoPanel();
    return;
  }
  if (state.selected < 0) return;
  state.setMode('loupe');
  infoPanelSetting.set(true);
}

/** Answers kept for stepping back and forth without asking again (the newest few dozen). */
const cache = new Map<number, ImageInfo>();
const CACHE_SIZE = 48;
/** While arrows step quickly, only the image that stays gets asked about (its histogram is read off the key press's path). */
const ASK_DELAY_MS = 150;

function remember(info: ImageInfo): void {
  cache.delete(info.imageId);
  cache.set(info.imageId, info);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
}

type Loaded = { imageId: number; info: ImageInfo | null; error: string | null };

/** The histogram and generation parameters of the loupe's image, asked of the core once per image. */
function useImageInfo(imageId: number, open: boolean): Loaded {
  const [loaded, setLoaded] = useState<Loaded>(() => ({ imageId, info: cache.get(imageId) ?? null, error: null }));
  useEffect(() => {
    if (!open) return;
    const cached = cache.get(imageId);
    if (cached) {
      setLoaded({ imageId, info: cached, error: null });
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      getClient()
        .call('images.info', { imageId })
        .then((info) => {
          remember(info);
          if (live) setLoaded({ imageId, info, error: null });
        })
        .catch((error: unknown) => {
          if (live) setLoaded({ imageId, info: null, error: errorText(error) });
        });
    }, ASK_DELAY_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [imageId, open]);
  return loaded.imageId === imageId ? loaded : { imageId, info: cache.get(imageId) ?? null, error: null };
}

/**
 * The loupe's info panel (I): a histogram (red, green, blue and luminance) and the parameters the
 * image was generated with (prompt, negative prompt, seed, sampler, steps, CFG, size, model,
 * LoRAs with their weights). Collapsed, it is a small tab at the loupe's right edge.
 */
export function InfoPanel({ image }: { image: ImageSummary }) {
  const open = infoPanelSetting.use();
  const { info, error } = useImageInfo(image.id, open);
  if (!open)
    return (
      <button
        type="button"
        className="info-tab"
        data-testid="info-tab"
        onClick={toggleInfoPanel}
        aria-expanded={false}
        aria-controls="info-panel"
        title="Show the info panel: histogram and generation parameters (I)"
      >
        ⓘ Info
      </button>
    );
  return (
    <aside className="info-panel" id="info-panel" aria-label="Image info" data-testid="info-panel" data-image-id={image.id}>
      <header className="panel-head">
        <h2>Info</h2>
        <span className="spacer" />
        <button
          type="button"
          className="link"
          onClick={toggleInfoPanel}
          aria-expanded={true}
          aria-controls="info-panel"
          aria-label="Hide the info panel"
          title="Hide the info panel (I)"
        >
          ›
        </button>
      </header>
      <section aria-label="Histogram">
        <HistogramView histogram={info?.histogram ?? null} />
      </section>
      <dl className="info-facts">
        <Row label="File" field="file" value={image.fileName} />
        <Row label="Pixels" field="pixels" value={`${image.width} × ${image.height}`} />
        <div className="info-row" data-field="sharpness">
          <dt>Sharpness</dt>
          <dd>
            <SharpnessMark sharpness={image.sharpness} />
          </dd>
        </div>
        <DraftInfoRow image={image} onRefine={() => void refineKey()} />
      </dl>
      {error ? (
        <p className="form-error" role="alert" data-testid="info-error">
          {error}
        </p>
      ) : !info ? (
        <p className="muted" data-testid="info-loading">
          Reading…
        </p>
      ) : info.generation ? (
        <GenerationView generation={info.generation} />
      ) : (
        <p className="muted" data-testid="info-no-parameters">
          No generation parameters: this image was imported without them.
        </p>
      )}
    </aside>
  );
}

function Row({ label, field, value }: { label: string; field: string; value: string }) {
  return (
    <div className="info-row" data-field={field}>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

function GenerationView({ generation: g }: { generation: ImageGeneration }) {
  const size = g.width !== null && g.height !== null ? `${g.width} × ${g.height}` : '—';
  const loras = g.loras.length === 0 ? 'none' : g.loras.map((l) => (l.weight === null ? l.name : `${l.name} × ${l.weight}`)).join(', ');
  return (
    <section className="info-generation" aria-label="Generation parameters" data-testid="info-generation">
      <h3>Generation</h3>
      <dl className="info-facts">
        <Row label="Prompt" field="prompt" value={g.prompt || '—'} />
        <Row label="Negative prompt" field="negative" value={g.negativePrompt || '—'} />
        <Row label="Seed" field="seed" value={g.seed === null ? '—' : String(g.seed)} />
        <Row label="Sampler" field="sampler" value={g.sampler ?? '—'} />
        {g.scheduleType !== null && <Row label="Schedule type" field="schedule" value={g.scheduleType} />}
        <Row label="Steps" field="steps" value={g.steps === null ? '—' : String(g.steps)} />
        <Row label="CFG" field="cfg" value={g.cfg === null ? '—' : String(g.cfg)} />
        <Row label="Size" field="size" value={size} />
        <Row label="Model" field="model" value={g.model ?? '—'} />
        <Row label="LoRAs" field="loras" value={loras} />
        {g.denoisingStrength !== null && <Row label="Denoising" field="denoising" value={String(g.denoisingStrength)} />}
      </dl>
    </section>
  );
}

const CHANNELS = [
  { key: 'r', className: 'hist-r' },
  { key: 'g', className: 'hist-g' },
  { key: 'b', className: 'hist-b' },
  { key: 'luma', className: 'hist-luma' },
] as const;

/**
 * The four histograms over one another, shadows left, highlights right. Heights are the square
 * root of the counts, scaled to the tallest bin: a flat-colour spike does not flatten the rest.
 */
function HistogramView({ histogram }: { histogram: Histogram | null }) {
  if (!histogram)
    return (
      <div className="histogram" data-testid="histogram" data-ready="false" aria-busy="true">
        <svg viewBox="0 0 256 100" preserveAspectRatio="none" aria-hidden="true" />
      </div>
    );
  let top = 1;
  for (const { key } of CHANNELS) for (const n of histogram[key]) top = Math.max(top, Math.sqrt(n));
  const area = (bins: number[]): string => {
    const points = bins.map((n, i) => `${i},${(100 - (Math.sqrt(n) / top) * 100).toFixed(2)}`);
    return `M0,100 L${points.join(' L')} L255,100 Z`;
  };
  const mean = histogram.luma.reduce((sum, n, i) => sum + n * i, 0) / Math.max(1, histogram.pixels);
  const share = (from: number, to: number): number =>
    histogram.luma.slice(from, to + 1).reduce((a, n) => a + n, 0) / Math.max(1, histogram.pixels);
  const shadows = share(0, 2);
  const highlights = share(253, 255);
  const percent = (v: number): string => `${(v * 100).toFixed(v > 0 && v < 0.01 ? 1 : 0)} %`;
  return (
    <div
      className="histogram"
      data-testid="histogram"
      data-ready="true"
      role="img"
      aria-label={`Histogram: mean brightness ${Math.round(mean)} of 255, ${percent(shadows)} black, ${percent(highlights)} white`}
    >
      <svg viewBox="0 0 256 100" preserveAspectRatio="none" aria-hidden="true">
        {CHANNELS.map(({ key, className }) => (
          <path key={key} className={className} data-channel={key} d={area(histogram[key])} />
        ))}
      </svg>
      <div className="histogram-legend muted">
        <span title="Share of pixels at or near black (levels 0–2)">◐ {percent(shadows)}</span>
        <span title="Mean brightness (luminance, 0–255)">mean {Math.round(mean)}</span>
        <span title="Share of pixels at or near white (levels 253–255)">{percent(highlights)} ◑</span>
      </div>
    </div>
  );
}
