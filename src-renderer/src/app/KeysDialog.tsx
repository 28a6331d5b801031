import { useEffect, useState } from 'react';
import {
  ACTIONS,
  PRESETS,
  describeSpec,
  keymapOf,
  loadKeySettings,
  normalizeSpec,
  saveKeySettings,
  type Action,
  type KeySettings,
  type PresetName,
} from './keymap';

/** The cheat sheet (?), which is also where keys are remapped: a preset and the user's own bindings. */
export function KeysDialog({ onClose }: { onClose(): void }) {
  const [settings, setSettings] = useState<KeySettings>(loadKeySettings);
  const [editing, setEditing] = useState(false);
  const keymap = keymapOf(settings);

  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      const typing = event.target instanceof HTMLInputElement;
      if (event.key === 'Escape' || (!typing && event.key === '?')) {
        event.preventDefault();
        onClose();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const update = (next: KeySettings): void => {
    setSettings(next);
    saveKeySettings(next);
  };
  const rebind = (action: Action, text: string): void => {
    const keys = text
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean)
      .map(normalizeSpec);
    const overrides = { ...settings.overrides, [action]: keys };
    if (JSON.stringify(keys) === JSON.stringify(PRESETS[settings.preset][action])) delete overrides[action];
    update({ ...settings, overrides });
  };

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="modal keys" role="dialog" aria-label="Keys" data-testid="cheat-sheet">
        <div className="panel-head">
          <h2>Keys</h2>
          <span className="spacer" />
          <label className="inline">
            Preset
            <select
              aria-label="Key preset"
              value={settings.preset}
              onChange={(e) => update({ preset: e.target.value as PresetName, overrides: {} })}
            >
              <option value="default">Onbrand (L loupe)</option>
              <option value="lightroom">Lightroom (E loupe, L lights out)</option>
            </select>
          </label>
          <button type="button" aria-pressed={editing} onClick={() => setEditing(!editing)}>
            Remap…
          </button>
        </div>
        <div className="keys-table-box">
          <table className="keys-table">
            <tbody>
              {(Object.keys(ACTIONS) as Action[]).map((action) => (
                <tr key={`${settings.preset}:${action}`} data-action={action}>
                  <th scope="row">{ACTIONS[action]}</th>
                  <td>
                    {editing ? (
                      <input
                        aria-label={`Keys for ${ACTIONS[action]}`}
                        defaultValue={keymap[action].join(', ')}
                        onBlur={(e) => rebind(action, e.target.value)}
                      />
                    ) : (
                      keymap[action].map((k) => <kbd key={k}>{describeSpec(k)}</kbd>)
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p className="muted small">
          Ctrl+G opens the Generate panel, Ctrl+K its prompt Composer. Esc gives the keys back to the grid or the loupe from any field or
          control; a filter, box or button used with the mouse gives them back by itself. In a browser tab, the browser may keep Ctrl+1…5
          (tabs): use the Rating filter or remap. Keys are comma-separated when remapping (e.g. <kbd>ctrl+shift+3</kbd>); they are saved in
          this browser.
        </p>
        <div className="modal-actions">
          <button type="button" onClick={() => update({ ...settings, overrides: {} })}>
            Reset to preset
          </button>
          <button type="button" className="primary" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
