import { useState } from "preact/hooks";
import { EyeIcon } from "./icons";

/** A value hidden behind dots until its eye button is pressed. */
export function SecretValue({ name, value }: { name: string; value: string }) {
  const [shown, setShown] = useState(false);
  return (
    <span class="secret">
      <span class="secret-value">{shown ? value : "••••••••"}</span>
      <button type="button" class="icon-button" aria-pressed={shown}
              aria-label={`${shown ? "Hide" : "Show"} value of ${name}`}
              onClick={() => setShown(!shown)}>
        <EyeIcon open={shown} />
      </button>
    </span>
  );
}
