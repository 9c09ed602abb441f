import type { ComponentChildren } from "preact";

interface Props {
  id: string;
  label: string;
  error?: string | undefined;
  hint?: ComponentChildren;
  children: ComponentChildren;
  required?: boolean;
}

/**
 * A form field: its visible label, the control (which must carry `id`, and
 * `aria-describedby={describedBy(id, error)}`), a hint, and the API's error beside it.
 */
export function Field({ id, label, error, hint, children, required = false }: Props) {
  return (
    <div class={error ? "field field-invalid" : "field"}>
      <label for={id}>
        {label}
        {required && <span class="required" aria-hidden="true"> *</span>}
      </label>
      {children}
      {hint && <div class="hint" id={`${id}-hint`}>{hint}</div>}
      {error && (
        <p class="field-error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** The ids a control's aria-describedby lists: its hint and its error, when shown. */
export function describedBy(id: string, error?: string, hint = false): string | undefined {
  const ids = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean);
  return ids.length > 0 ? ids.join(" ") : undefined;
}
