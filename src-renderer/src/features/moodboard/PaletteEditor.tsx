import { useEffect, useRef, useState, type ClipboardEvent, type KeyboardEvent } from 'react';
import type { BrandColour, Project } from '../../../../src-main/core/api/index';
import { MAX_BRAND_COLOURS, normaliseHex, parseHexList, plainColourName } from '../../../../src-main/core/common/index';
import { savePalette } from './actions';
import { uniqueColourName } from './palette';

/** One colour being edited: `hexText` is what is typed, `hex` the last valid colour. */
interface Row {
  key: number;
  hex: string;
  hexText: string;
  name: string;
}

let nextKey = 1;
const rowOf = (c: BrandColour): Row => ({ key: nextKey++, hex: c.hex.toUpperCase(), hexText: c.hex.toUpperCase(), name: c.name });

/** Why a palette cannot be saved, in the designer's words, or null. */
export function paletteProblem(rows: readonly Pick<Row, 'hex' | 'hexText' | 'name'>[]): string | null {
  if (rows.length === 0) return 'Keep at least one colour in the brand palette.';
  if (rows.length > MAX_BRAND_COLOURS) return `The brand palette holds at most ${MAX_BRAND_COLOURS} colours.`;
  const hexes = new Map<string, number>();
  const names = new Map<string, number>();
  for (const [i, row] of rows.entries()) {
    const hex = normaliseHex(row.hexText);
    if (!hex) return `Colour ${i + 1}: "${row.hexText}" is not a colour; type one like #FE2C54 or #F2C.`;
    const name = (row.name.trim() || plainColourName(hex)).toLowerCase();
    if (hexes.has(hex)) return `Colours ${hexes.get(hex)! + 1} and ${i + 1} are both ${hex}: keep each colour once.`;
    if (names.has(name)) return `Colours ${names.get(name)! + 1} and ${i + 1} are both named "${name}": give each its own name.`;
    if (row.name.trim().length > 40) return `Colour ${i + 1}: a name has at most 40 characters.`;
    hexes.set(hex, i);
    names.set(name, i);
  }
  return null;
}

/** What a pasted list did, in one line: what was added, what was already there, what is not a colour. */
export function pasteMessage(added: string[], already: string[], invalid: string[], over: string[]): string {
  const parts: string[] = [];
  parts.push(added.length ? `Added ${added.length} colour${added.length === 1 ? '' : 's'}.` : 'No colour added.');
  if (already.length) parts.push(`Already in the palette: ${already.join(', ')}.`);
  if (over.length) parts.push(`The palette holds at most ${MAX_BRAND_COLOURS} colours: ${over.join(', ')} left out.`);
  if (invalid.length) parts.push(`Not colours: ${invalid.map((t) => `"${t}"`).join(', ')} (type #RRGGBB or #RGB).`);
  return parts.join(' ');
}

/**
 * The project's brand palette as an editable list: each colour's hex (typed, or from the picker),
 * its name (the plain colour name unless the designer gives one), reorder with the buttons or
 * Alt+↑/↓, remove, add one, or paste a list of hexes. Saved as a whole ("Save palette"); the
 * images' palette-match badges then follow it.
 */
export function PaletteEditor({ project }: { project: Project }) {
  const saved = JSON.stringify(project.palette);
  const [rows, setRows] = useState<Row[]>(() => project.palette.map(rowOf));
  const [pasteOpen, setPasteOpen] = useState(false);
  const [pasteText, setPasteText] = useState('');
  const [message, setMessage] = useState<{ kind: 'info' | 'error'; text: string } | null>(null);
  const [saving, setSaving] = useState(false);
  const list = useRef<HTMLUListElement>(null);

  // The saved palette replaces the list when it changes (another window, "Use as brand palette", a save).
  useEffect(() => setRows(project.palette.map(rowOf)), [project.id, saved]);

  const current = rows.map((r) => ({ name: r.name.trim() || plainColourName(r.hex), hex: normaliseHex(r.hexText) ?? r.hexText }));
  const dirty = JSON.stringify(current) !== saved;
  const problem = paletteProblem(rows);
  const namesBut = (key: number): Set<string> => new Set(rows.filter((r) => r.key !== key).map((r) => r.name.trim().toLowerCase()));

  const update = (key: number, patch: Partial<Row>): void => setRows((all) => all.map((r) => (r.key === key ? { ...r, ...patch } : r)));

  /** A new colour for a row; a name that was the old colour's plain name follows the colour. */
  const recolour = (row: Row, hex: string, hexText = hex): void => {
    const automatic = !row.name.trim() || row.name.trim().toLowerCase() === uniqueColourName(row.hex, namesBut(row.key)).toLowerCase();
    update(row.key, { hex, hexText, ...(automatic ? { name: uniqueColourName(hex, namesBut(row.key)) } : {}) });
  };

  const move = (index: number, to: number): void => {
    if (to < 0 || to >= rows.length) return;
    setRows((all) => {
      const next = [...all];
      const [row] = next.splice(index, 1);
      next.splice(to, 0, row!);
      return next;
    });
  };

  const remove = (index: number): void => {
    setRows((all) => all.filter((_, i) => i !== index));
    // The focus goes to the next row's remove button (or the previous one's), not to the page.
    requestAnimationFrame(() => {
      const buttons = list.current?.querySelectorAll<HTMLButtonElement>('button.palette-remove');
      buttons?.[Math.min(index, buttons.length - 1)]?.focus();
    });
  };

  /** Adds colours (already `#RRGGBB`) after the list; returns what was added, already there, and left out. */
  const addColours = (hexes: string[]): { added: string[]; already: string[]; over: string[] } => {
    const have = new Set(rows.map((r) => normaliseHex(r.hexText) ?? r.hex));
    const names = new Set(rows.map((r) => r.name.trim().toLowerCase()));
    const added: string[] = [];
    const already: string[] = [];
    const over: string[] = [];
    const fresh: Row[] = [];
    for (const hex of hexes) {
      if (have.has(hex)) already.push(hex);
      else if (rows.length + fresh.length >= MAX_BRAND_COLOURS) over.push(hex);
      else {
        const name = uniqueColourName(hex, names);
        names.add(name.toLowerCase());
        have.add(hex);
        added.push(hex);
        fresh.push({ key: nextKey++, hex, hexText: hex, name });
      }
    }
    setRows((all) => [...all, ...fresh]);
    return { added, already, over };
  };

  const paste = (text: string): void => {
    const { colours, invalid } = parseHexList(text);
    const { added, already, over } = addColours(colours);
    setMessage({
      kind: invalid.length || over.length || added.length === 0 ? 'error' : 'info',
      text: pasteMessage(added, already, invalid, over),
    });
    if (invalid.length === 0) setPasteText('');
  };

  const addOne = (): void => {
    const grey = ['#808080', '#FFFFFF', '#000000', '#404040', '#C0C0C0'].find((h) => !rows.some((r) => r.hex === h)) ?? '#808080';
    addColours([grey]);
    // The new row's hex field, selected, ready for typing.
    requestAnimationFrame(() => {
      const fields = list.current?.querySelectorAll<HTMLInputElement>('input.palette-hex');
      const last = fields?.[fields.length - 1];
      last?.focus();
      last?.select();
    });
  };

  const save = async (): Promise<void> => {
    // The problem shows below the list as long as it lasts (a message set here would outlive it).
    if (problem) return;
    setSaving(true);
    const ok = await savePalette(current.map((c) => ({ name: c.name, hex: c.hex })));
    setSaving(false);
    setMessage(ok ? { kind: 'info', text: 'Palette saved: the images’ brand badges follow it.' } : null);
  };

  const onRowKey = (event: KeyboardEvent<HTMLLIElement>, index: number): void => {
    if (!event.altKey || (event.key !== 'ArrowUp' && event.key !== 'ArrowDown')) return;
    event.preventDefault();
    event.stopPropagation();
    // The field or button keeps the keyboard where its row goes (a moved element can lose the focus).
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    move(index, index + (event.key === 'ArrowUp' ? -1 : 1));
    requestAnimationFrame(() => focused && focused !== document.activeElement && focused.focus());
  };

  /** A list pasted into a hex field goes in as new colours; one colour pasted is just typed. */
  const onHexPaste = (event: ClipboardEvent<HTMLInputElement>): void => {
    const text = event.clipboardData.getData('text/plain');
    const { colours, invalid } = parseHexList(text);
    if (colours.length + invalid.length <= 1) return;
    event.preventDefault();
    paste(text);
  };

  return (
    <div className="palette-editor" data-testid="palette-editor">
      <ul className="palette-list palette-rows" data-testid="brand-palette" ref={list} aria-label="Brand palette colours">
        {rows.map((row, index) => {
          const valid = normaliseHex(row.hexText) !== null;
          const label = row.name.trim() || plainColourName(row.hex);
          return (
            <li key={row.key} data-hex={row.hex} className="palette-row" onKeyDown={(e) => onRowKey(e, index)}>
              <input
                type="color"
                className="palette-picker"
                aria-label={`Pick colour ${index + 1} (${label})`}
                value={row.hex.toLowerCase()}
                onChange={(e) => recolour(row, e.target.value.toUpperCase())}
              />
              <input
                type="text"
                className="palette-hex"
                aria-label={`Hex of colour ${index + 1}`}
                aria-invalid={valid ? undefined : true}
                title={valid ? 'Hex: #RRGGBB or #RGB; paste a list to add several' : 'Type a colour like #FE2C54 or #F2C'}
                spellCheck={false}
                maxLength={9}
                value={row.hexText}
                onChange={(e) => {
                  const hex = normaliseHex(e.target.value);
                  if (hex) recolour(row, hex, e.target.value);
                  else update(row.key, { hexText: e.target.value });
                }}
                onBlur={() => valid && update(row.key, { hexText: row.hex })}
                onPaste={onHexPaste}
              />
              <input
                type="text"
                className="palette-name"
                aria-label={`Name of colour ${index + 1}`}
                placeholder={plainColourName(row.hex)}
                maxLength={40}
                value={row.name}
                onChange={(e) => update(row.key, { name: e.target.value })}
              />
              <span className="palette-actions">
                <button
                  type="button"
                  disabled={index === 0}
                  onClick={() => move(index, index - 1)}
                  aria-label={`Move ${label} up`}
                  title="Move up (Alt+↑)"
                >
                  ↑
                </button>
                <button
                  type="button"
                  disabled={index === rows.length - 1}
                  onClick={() => move(index, index + 1)}
                  aria-label={`Move ${label} down`}
                  title="Move down (Alt+↓)"
                >
                  ↓
                </button>
                <button
                  type="button"
                  className="palette-remove"
                  onClick={() => remove(index)}
                  aria-label={`Remove ${label}`}
                  title="Remove"
                >
                  ✕
                </button>
              </span>
              {!valid && (
                <span className="field-error palette-error" role="alert">
                  Type a colour like #FE2C54 or #F2C
                </span>
              )}
            </li>
          );
        })}
        {rows.length === 0 && <li className="muted">No colours: add one or paste a list.</li>}
      </ul>
      <div className="inline palette-tools">
        <button type="button" onClick={addOne} disabled={rows.length >= MAX_BRAND_COLOURS}>
          + Add colour
        </button>
        <button type="button" aria-expanded={pasteOpen} onClick={() => setPasteOpen(!pasteOpen)}>
          Paste hexes…
        </button>
      </div>
      {pasteOpen && (
        <form
          className="palette-paste"
          onSubmit={(e) => {
            e.preventDefault();
            paste(pasteText);
          }}
        >
          <label>
            Colours to add
            <textarea
              rows={3}
              value={pasteText}
              spellCheck={false}
              placeholder={'#FE2C54, #00E0FF #FFD500\nor one per line'}
              onChange={(e) => setPasteText(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
                  e.preventDefault();
                  e.currentTarget.form?.requestSubmit();
                }
              }}
            />
          </label>
          <button type="submit" disabled={!pasteText.trim()}>
            Add these colours
          </button>
        </form>
      )}
      {message && (
        <div className={message.kind === 'error' ? 'palette-message error' : 'palette-message'} role="status" data-testid="palette-message">
          {message.text}
        </div>
      )}
      {dirty && problem && (
        <div className="palette-message error" role="status" data-testid="palette-problem">
          {problem}
        </div>
      )}
      <div className="inline">
        <button type="button" className="primary" disabled={!dirty || saving} onClick={() => void save()}>
          {saving ? 'Saving…' : 'Save palette'}
        </button>
        <button
          type="button"
          disabled={!dirty || saving}
          onClick={() => {
            setRows(project.palette.map(rowOf));
            setMessage(null);
          }}
        >
          Discard changes
        </button>
      </div>
    </div>
  );
}
