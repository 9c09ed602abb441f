/** Labelled inputs bound to one key of a form's values, with the API's error beside them. */
import { describedBy, Field } from "./Field";

interface TextProps {
  id: string;
  label: string;
  value: string;
  onValue: (value: string) => void;
  error?: string | undefined;
  type?: "text" | "number" | "date" | "datetime-local";
  readOnly?: boolean;
  hint?: string;
  step?: string;
}

export function TextInput({ id, label, value, onValue, error, type = "text", readOnly = false, hint, step }: TextProps) {
  return (
    <Field id={id} label={label} error={error} hint={hint}>
      {/* Preact types an input's attributes per literal type; this one takes any of three. */}
      <input id={id} type={type as "text"} value={value} readOnly={readOnly} autoComplete="off" step={step}
             min={type === "number" ? 0 : undefined}
             aria-invalid={error ? true : undefined} aria-describedby={describedBy(id, error, hint !== undefined)}
             onInput={(event) => onValue(event.currentTarget.value)} />
    </Field>
  );
}

export function CheckboxInput({ id, label, checked, onValue, error }: {
  id: string; label: string; checked: boolean; onValue: (value: boolean) => void; error?: string | undefined;
}) {
  return (
    <div class={error ? "field field-invalid" : "field"}>
      <label class="checkbox" for={id}>
        <input id={id} type="checkbox" checked={checked} aria-invalid={error ? true : undefined}
               aria-describedby={describedBy(id, error)} onChange={(event) => onValue(event.currentTarget.checked)} />
        {label}
      </label>
      {error && <p class="field-error" id={`${id}-error`} role="alert">{error}</p>}
    </div>
  );
}
