import { useId } from "preact/hooks";

export interface Pair {
  name: string;
  value: string;
}

interface Props {
  legend: string;
  pairs: Pair[];
  onChange: (pairs: Pair[]) => void;
  error?: string | undefined;
}

/** Editable name/value rows (environment variables, metadata) in a labelled fieldset. */
export function KeyValueEditor({ legend, pairs, onChange, error }: Props) {
  const base = useId();
  const update = (index: number, change: Partial<Pair>): void =>
    onChange(pairs.map((pair, at) => (at === index ? { ...pair, ...change } : pair)));
  const errorId = `${base}-error`;
  return (
    <fieldset class={error ? "pairs field-invalid" : "pairs"} aria-describedby={error ? errorId : undefined}>
      <legend>{legend}</legend>
      {pairs.length === 0 && <p class="muted">None.</p>}
      {pairs.map((pair, index) => (
        <div class="pair" key={index}>
          <label for={`${base}-name-${index}`} class="pair-label">Name</label>
          <input id={`${base}-name-${index}`} value={pair.name} autoComplete="off"
                 onInput={(event) => update(index, { name: event.currentTarget.value })} />
          <label for={`${base}-value-${index}`} class="pair-label">Value</label>
          <input id={`${base}-value-${index}`} value={pair.value} autoComplete="off"
                 onInput={(event) => update(index, { value: event.currentTarget.value })} />
          <button type="button" aria-label={`Remove ${legend} row ${index + 1}`}
                  onClick={() => onChange(pairs.filter((_, at) => at !== index))}>Remove</button>
        </div>
      ))}
      <button type="button" onClick={() => onChange([...pairs, { name: "", value: "" }])}>
        + Add {legend === "Environment Variables" ? "Environment Variable" : legend}
      </button>
      {error && <p class="field-error" id={errorId} role="alert">{error}</p>}
    </fieldset>
  );
}
