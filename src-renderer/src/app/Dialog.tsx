import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { PickRequest } from '../../../src-main/core/api/index';
import { ChooseButton } from '../shared/ChooseButton';

interface FieldSpec {
  name: string;
  label: string;
  placeholder?: string;
  initial?: string;
  multiline?: boolean;
  hint?: string;
  /** "Choose…" buttons for a path field (desktop app only): each fills the field (a multi-line one gets a line per path). */
  choose?: { label: string; request: PickRequest }[];
}

interface FormDialogProps {
  title: string;
  fields: FieldSpec[];
  submitLabel: string;
  /** Resolves to an error message to show, or null when done (the dialog then closes). */
  onSubmit(values: Record<string, string>): Promise<string | null>;
  onClose(): void;
  children?: ReactNode;
}

/** A small modal form: Enter submits (Ctrl+Enter in a multi-line field), Esc cancels, errors stay in the dialog. */
export function FormDialog({ title, fields, submitLabel, onSubmit, onClose, children }: FormDialogProps) {
  const [values, setValues] = useState<Record<string, string>>(() => Object.fromEntries(fields.map((f) => [f.name, f.initial ?? ''])));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement & HTMLTextAreaElement>(null);

  useEffect(() => {
    first.current?.focus();
    first.current?.select();
  }, []);

  // Esc closes the dialog wherever the focus is (the app's own keys are off while it is open).
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (event.key === 'Escape') {
        event.preventDefault();
        onClose();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const submit = async (): Promise<void> => {
    if (busy) return;
    setBusy(true);
    const message = await onSubmit(values);
    setBusy(false);
    if (message) setError(message);
    else onClose();
  };

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <form
        className="modal"
        role="dialog"
        aria-label={title}
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            void submit();
          }
        }}
      >
        <h2>{title}</h2>
        {fields.map((field, i) => (
          <label key={field.name} className="field">
            <span>{field.label}</span>
            {field.multiline ? (
              <textarea
                ref={i === 0 ? first : undefined}
                name={field.name}
                rows={4}
                placeholder={field.placeholder}
                value={values[field.name]}
                onChange={(e) => setValues({ ...values, [field.name]: e.target.value })}
              />
            ) : (
              <input
                ref={i === 0 ? first : undefined}
                name={field.name}
                placeholder={field.placeholder}
                value={values[field.name]}
                onChange={(e) => setValues({ ...values, [field.name]: e.target.value })}
              />
            )}
            {field.choose?.map((c) => (
              <ChooseButton
                key={c.label}
                label={c.label}
                request={c.request}
                onChoose={(paths) =>
                  setValues((current) => {
                    const before = (current[field.name] ?? '').trim();
                    return { ...current, [field.name]: field.multiline ? [before, ...paths].filter(Boolean).join('\n') : paths[0]! };
                  })
                }
              />
            ))}
            {field.hint && <small>{field.hint}</small>}
          </label>
        ))}
        {children}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <div className="modal-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" aria-busy={busy}>
            {submitLabel}
          </button>
        </div>
      </form>
    </div>
  );
}
