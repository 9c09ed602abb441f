import { CopyButton } from "./CopyButton";
import { Notice } from "./Notice";

interface Props {
  label: string;
  token: string;
  onDone: () => void;
}

/** A token shown this once: the value, a copy button and the warning that it will not return. */
export function OneTimeToken({ label, token, onDone }: Props) {
  return (
    <Notice kind="warning" title={label}>
      <p>This token is shown only once. Copy it now and keep it somewhere safe: it cannot be shown
        again. If it is lost, replace it with a new one.</p>
      <div class="token-row">
        <code class="token" aria-label={label}>{token}</code>
        <CopyButton text={token} />
      </div>
      <button type="button" onClick={onDone}>I have saved it</button>
    </Notice>
  );
}
