/**
 * A field's message, shown beside the field (which points at it with `aria-describedby` and is
 * marked `aria-invalid`: see `describedBy`), with a button that puts the nearest value that passes
 * into the field. Nothing is changed until the designer presses it.
 */
export interface FieldFix {
  /** What the button offers ("576", "--ar 1:16", "FluxPortraitTrainer"). */
  label: string;
  /** The field's whole new text. */
  value: string;
}

export function FieldMessage({
  id,
  message,
  fix,
  onFix,
}: {
  id: string;
  message: string | undefined;
  fix?: FieldFix | undefined;
  onFix?: ((value: string) => void) | undefined;
}) {
  if (!message) return null;
  return (
    <small className="field-error" id={id} data-testid="field-error" aria-live="polite">
      <span>{message}</span>
      {fix && onFix && (
        <>
          {' — '}
          <button type="button" className="link field-fix" onClick={() => onFix(fix.value)}>
            Use {fix.label}
          </button>
        </>
      )}
    </small>
  );
}

/** The attributes a field with a message carries: marked invalid, described by the message beside it. */
export function describedBy(id: string, message: string | undefined): { 'aria-invalid'?: true; 'aria-describedby'?: string } {
  return message ? { 'aria-invalid': true, 'aria-describedby': id } : {};
}
