import { useState } from "preact/hooks";
import { messageOf } from "../api/client";
import { Dialog } from "./Dialog";
import { Field } from "./Field";
import { Errors } from "./Notice";

interface Props {
  title: string;
  message: string;
  confirmLabel: string;
  /** When set, the user must type this text before the button works (PrimeHub's delete). */
  typeToConfirm?: string;
  /** When set, an optional one-line reason is asked for (kept by the audit trail). */
  reasonLabel?: string;
  onConfirm: (reason: string | null) => Promise<void>;
  onClose: () => void;
}

/** Asks before something that cannot be undone; shows the API's error if it fails. */
export function ConfirmDialog({ title, message, confirmLabel, typeToConfirm, reasonLabel, onConfirm, onClose }: Props) {
  const [typed, setTyped] = useState("");
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ready = typeToConfirm === undefined || typed === typeToConfirm;
  const confirm = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (!ready || busy) return;
    setBusy(true);
    setError(null);
    try {
      await onConfirm(reason.trim() || null);
      onClose();
    } catch (failure) {
      setError(messageOf(failure));
      setBusy(false);
    }
  };
  return (
    <Dialog title={title} onClose={onClose}>
      <form onSubmit={confirm}>
        <p>{message}</p>
        {typeToConfirm !== undefined && (
          <Field id="confirm-text" label={`Type ${typeToConfirm} to confirm`}>
            <input id="confirm-text" value={typed} autoComplete="off" autoFocus
                   onInput={(event) => setTyped(event.currentTarget.value)} />
          </Field>
        )}
        {reasonLabel !== undefined && (
          <Field id="confirm-reason" label={reasonLabel}>
            <input id="confirm-reason" value={reason} autoComplete="off" maxLength={256}
                   onInput={(event) => setReason(event.currentTarget.value)} />
          </Field>
        )}
        {error && <Errors messages={[error]} />}
        <div class="actions">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" class="danger" disabled={!ready || busy}>{confirmLabel}</button>
        </div>
      </form>
    </Dialog>
  );
}
