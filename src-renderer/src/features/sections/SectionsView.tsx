import { useEffect, useState } from 'react';
import type { ImageSummary, Section, SectionCheck } from '../../../../src-main/core/api/index';
import { getClient } from '../../api/client';
import { Swatch } from '../../shared/BrandBadge';
import { useStore } from '../../store';
import { selectedImage } from '../grid/slice';
import { loadSections, moveSection, pairSection, removeSection, saveSection, type SectionFields } from './actions';

/** The mobile frame of the preview: 9:16 at a phone's CSS width. */
const FRAME_WIDTH = 390;
const FRAME_HEIGHT = 693;

const STATUS_LABEL: Record<SectionCheck['status'], string> = {
  pass: '✓ Match',
  warn: '⚠ Off',
  unpaired: 'No image',
  no_background: 'No background',
};

/** The section form's fields as typed: numbers stay text until saved, so a half-typed one is not lost. */
interface Fields {
  name: string;
  background: string;
  hasBackground: boolean;
  width: string;
  height: string;
}

const fieldsOf = (s?: Section): Fields => ({
  name: s?.name ?? '',
  background: s?.backgroundHex ?? '#FE2C54',
  hasBackground: s ? s.backgroundHex !== null : true,
  width: String(s?.slotWidth ?? 1080),
  height: String(s?.slotHeight ?? 1920),
});

const toSection = (f: Fields): SectionFields => ({
  name: f.name.trim(),
  backgroundHex: f.hasBackground ? f.background.toUpperCase() : null,
  // As typed: a size that is not a whole number of pixels is refused by name, never rounded silently.
  slotWidth: Number(f.width),
  slotHeight: Number(f.height),
});

function SectionFieldsEditor({ fields, onChange, label }: { fields: Fields; onChange(f: Fields): void; label: string }) {
  return (
    <>
      <label>
        Name
        <input
          aria-label={`${label} name`}
          value={fields.name}
          maxLength={60}
          onChange={(e) => onChange({ ...fields, name: e.target.value })}
        />
      </label>
      <label>
        Background
        <input
          type="color"
          aria-label={`${label} background`}
          value={fields.background.toLowerCase()}
          onChange={(e) => onChange({ ...fields, background: e.target.value, hasBackground: true })}
        />
      </label>
      <label className="check">
        <input
          type="checkbox"
          checked={!fields.hasBackground}
          onChange={(e) => onChange({ ...fields, hasBackground: !e.target.checked })}
        />{' '}
        none
      </label>
      <label>
        Slot
        <input
          aria-label={`${label} width`}
          className="px"
          inputMode="numeric"
          value={fields.width}
          onChange={(e) => onChange({ ...fields, width: e.target.value })}
        />
        ×
        <input
          aria-label={`${label} height`}
          className="px"
          inputMode="numeric"
          value={fields.height}
          onChange={(e) => onChange({ ...fields, height: e.target.value })}
        />
      </label>
    </>
  );
}

function SectionRow({
  section,
  index,
  count,
  check,
  images,
  active,
}: {
  section: Section;
  index: number;
  count: number;
  check: SectionCheck | undefined;
  images: ImageSummary[];
  active: ImageSummary | undefined;
}) {
  const [fields, setFields] = useState(() => fieldsOf(section));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setFields(fieldsOf(section)), [section]);
  const dirty = JSON.stringify(toSection(fields)) !== JSON.stringify(toSection(fieldsOf(section)));
  const paired = images.find((i) => i.id === section.imageId);
  const client = getClient();
  return (
    <li
      className="section-row"
      data-testid="section-row"
      data-section-id={section.id}
      data-name={section.name}
      data-status={check?.status ?? ''}
    >
      <form
        className="section-fields"
        onSubmit={(e) => {
          e.preventDefault();
          void saveSection(toSection(fields), section.id).then(setError);
        }}
      >
        <SectionFieldsEditor fields={fields} onChange={setFields} label={`Section ${section.name}`} />
        <button type="submit" disabled={!dirty}>
          Save
        </button>
        <span className="spacer" />
        <button
          type="button"
          disabled={index === 0}
          onClick={() => void moveSection(section.id, index - 1)}
          aria-label={`Move ${section.name} up`}
        >
          ↑
        </button>
        <button
          type="button"
          disabled={index === count - 1}
          onClick={() => void moveSection(section.id, index + 1)}
          aria-label={`Move ${section.name} down`}
        >
          ↓
        </button>
        <button type="button" onClick={() => void removeSection(section.id)} aria-label={`Remove ${section.name}`}>
          ✕
        </button>
      </form>
      {error && (
        <div className="error" role="alert" data-testid="section-error">
          {error}
        </div>
      )}
      <div className="section-pair">
        {paired?.thumbPath ? (
          <img className="section-thumb" src={client.mediaUrl(paired.thumbPath)} alt={paired.fileName} />
        ) : (
          <div className="section-thumb pending" />
        )}
        <label>
          Image
          <select
            aria-label={`Image for ${section.name}`}
            value={section.imageId ?? ''}
            onChange={(e) => void pairSection(section.id, e.target.value ? Number(e.target.value) : null)}
          >
            <option value="">None</option>
            {images.map((i) => (
              <option key={i.id} value={i.id}>
                {i.fileName}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          disabled={!active || active.id === section.imageId}
          onClick={() => active && void pairSection(section.id, active.id)}
          title={active ? `Pair ${active.fileName}, selected in the grid` : 'Select an image in the grid first'}
        >
          Pair selected image
        </button>
      </div>
      {check && (
        <div className={`section-check ${check.status}`} data-testid="section-check">
          <strong>{STATUS_LABEL[check.status]}</strong>
          {check.dominantHex && <Swatch hex={check.dominantHex} title={`Dominant colour ${check.dominantHex}`} />}
          <span data-testid="section-message">{check.message}</span>
          {check.suggestion && (
            <span className="section-suggestion" data-testid="section-suggestion">
              Closer pick: {check.suggestion.fileName} <Swatch hex={check.suggestion.dominantHex} /> (ΔE{' '}
              {check.suggestion.deltaE.toFixed(1)}){' '}
              <button type="button" onClick={() => void pairSection(section.id, check.suggestion!.imageId)}>
                Pair it
              </button>
            </span>
          )}
        </div>
      )}
    </li>
  );
}

/** The sections in order inside a 9:16 phone frame: each slot's image covers it over its background colour. */
function Preview({ sections, images }: { sections: Section[]; images: ImageSummary[] }) {
  const client = getClient();
  return (
    <div className="mobile-frame" data-testid="sections-preview" style={{ width: FRAME_WIDTH, height: FRAME_HEIGHT }}>
      {sections.map((s) => {
        const image = images.find((i) => i.id === s.imageId);
        return (
          <div
            key={s.id}
            className="preview-section"
            data-testid="preview-section"
            data-name={s.name}
            style={{
              height: Math.round((FRAME_WIDTH * s.slotHeight) / s.slotWidth),
              backgroundColor: s.backgroundHex ?? 'transparent',
              backgroundImage: image ? `url("${client.mediaUrl(image.path)}")` : undefined,
            }}
          >
            <span className="preview-label">{s.name}</span>
          </div>
        );
      })}
      {sections.length === 0 && <div className="muted small">No sections yet.</div>}
    </div>
  );
}

/** Page sections (Framer): background colour, slot size, the paired image and whether their colours match. */
export function SectionsView() {
  const projectId = useStore((s) => s.currentProjectId);
  const sections = useStore((s) => s.sections);
  const checks = useStore((s) => s.checks);
  const images = useStore((s) => s.allImages);
  const active = useStore(selectedImage);
  const [fields, setFields] = useState<Fields>(() => ({ ...fieldsOf(), name: '' }));
  const [error, setError] = useState<string | null>(null);
  const [preview, setPreview] = useState(false);

  useEffect(() => {
    void loadSections(projectId);
  }, [projectId]);

  return (
    <div className="sections-view" data-testid="sections-view">
      <section className="sections-main" aria-label="Sections">
        <div className="board-bar">
          <strong>Sections</strong>
          <span className="muted small">Each page section's background should match the dominant colour of its image.</span>
          <span className="spacer" />
          <span className="muted small">{active ? `Selected in the grid: ${active.fileName}` : 'No image selected in the grid'}</span>
          <button type="button" aria-pressed={preview} onClick={() => setPreview(!preview)}>
            Preview
          </button>
        </div>
        <ol className="section-list">
          {sections.map((s, index) => (
            <SectionRow
              key={s.id}
              section={s}
              index={index}
              count={sections.length}
              check={checks.find((c) => c.sectionId === s.id)}
              images={images}
              active={active}
            />
          ))}
        </ol>
        <form
          className="section-fields section-new"
          aria-label="New section"
          onSubmit={(e) => {
            e.preventDefault();
            void saveSection(toSection(fields)).then((message) => {
              setError(message);
              if (!message) setFields({ ...fields, name: '' });
            });
          }}
        >
          <SectionFieldsEditor fields={fields} onChange={setFields} label="New section" />
          <button
            type="submit"
            className="primary"
            disabled={!fields.name.trim()}
            title={fields.name.trim() ? undefined : 'Give the section a name first'}
          >
            Add section
          </button>
        </form>
        {error && (
          <div className="error" role="alert" data-testid="section-error">
            {error}
          </div>
        )}
      </section>
      {preview && (
        <aside className="sections-preview" aria-label="Preview">
          <Preview sections={sections} images={images} />
        </aside>
      )}
    </div>
  );
}
