import { useState } from "preact/hooks";
import { Dialog } from "./Dialog";
import { TextInput } from "./inputs";
import { Errors } from "./Notice";
import { useSubmit } from "./useSubmit";

const MAX_OVERLAP_S = 604800;

interface Props {
  title: string;
  /** Rotate with this overlap; the caller shows the new token. A failure is shown here. */
  onRotate: (overlapSeconds: number) => Promise<void>;
  onClose: () => void;
}

/**
 * Replacing a token without an outage (a client's or an API token): the overlap the current
 * token keeps working beside the new one, checked here (0 to a week) and by the API.
 */
export function RotateDialog({ title, onRotate, onClose }: Props) {
  const [overlap, setOverlap] = useState("3600");
  const submit = useSubmit();
  const rotate = async (event: Event): Promise<void> => {
    event.preventDefault();
    const seconds = Number(overlap);
    if (overlap.trim() === "" || !Number.isInteger(seconds) || seconds < 0 || seconds > MAX_OVERLAP_S) {
      submit.fail(new Map([["overlapSeconds", `Enter whole seconds from 0 to ${MAX_OVERLAP_S} (a week).`]]));
      return;
    }
    await submit.run(() => onRotate(seconds), new Set(["overlapSeconds"]));
  };
  return (
    <Dialog title={title} onClose={onClose}>
      <form onSubmit={rotate} noValidate>
        <p>A new token is made and shown once. The current token keeps working beside it for the
          overlap, so callers can switch without an outage; then it is refused.</p>
        <TextInput id="overlap-seconds" label="Overlap (seconds)" type="number" value={overlap}
                   error={submit.errors.get("overlapSeconds")} hint="0 stops the current token at once; at most 604800 (a week)."
                   onValue={setOverlap} />
        <Errors messages={submit.general} />
        <div class="actions">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" class="primary" disabled={submit.busy}>Rotate</button>
        </div>
      </form>
    </Dialog>
  );
}
