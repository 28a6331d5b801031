/**
 * A modal dialog's keyboard manners, for dialogs that may open over one another: the focus moves
 * into the dialog when it opens and back where it was when it closes, Tab and Shift+Tab cycle
 * within it, and Esc closes it; only the topmost dialog answers keys.
 */
import { useEffect, useRef, type RefObject } from 'react';

const stack: symbol[] = [];

/** True while a dialog made with `useModal` is open (the app's own keys are off then). */
export function modalOpen(): boolean {
  return stack.length > 0;
}

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

function focusables(root: HTMLElement): HTMLElement[] {
  return Array.from(root.querySelectorAll<HTMLElement>(FOCUSABLE)).filter((el) => el.getClientRects().length > 0);
}

/**
 * `dialog` is the element with role="dialog"; `initial`, when given, gets the focus first (else
 * the first field or button). `onClose` runs on Esc.
 */
export function useModal(dialog: RefObject<HTMLElement | null>, onClose: () => void, initial?: RefObject<HTMLElement | null>): void {
  const close = useRef(onClose);
  useEffect(() => {
    close.current = onClose;
  }, [onClose]);

  useEffect(() => {
    const id = Symbol('modal');
    stack.push(id);
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const root = dialog.current;
    const first = initial?.current ?? (root ? focusables(root)[0] : undefined) ?? root;
    first?.focus();
    if (first instanceof HTMLInputElement) first.select();

    const onKey = (event: KeyboardEvent): void => {
      if (stack[stack.length - 1] !== id || !root) return;
      if (event.key === 'Escape') {
        event.preventDefault();
        event.stopPropagation();
        close.current();
        return;
      }
      if (event.key !== 'Tab') return;
      const items = focusables(root);
      if (items.length === 0) {
        event.preventDefault();
        return;
      }
      const at = items.indexOf(document.activeElement as HTMLElement);
      const outside = at < 0;
      if (event.shiftKey && (outside || at === 0)) {
        event.preventDefault();
        items[items.length - 1]!.focus();
      } else if (!event.shiftKey && (outside || at === items.length - 1)) {
        event.preventDefault();
        items[0]!.focus();
      }
    };
    // Capture: the dialog's keys come before the app's, whatever has the focus.
    window.addEventListener('keydown', onKey, true);
    return () => {
      window.removeEventListener('keydown', onKey, true);
      stack.splice(stack.indexOf(id), 1);
      if (before && before.isConnected) before.focus();
    };
    // Once per dialog: its element and its first control are fixed for its life.
  }, [dialog, initial]);
}
