/**
 * Sign-in by pasting an API token. The token goes once to the API, which answers with an
 * HttpOnly session cookie; the page keeps nothing. (With an SSO proxy in front, or through
 * dev mode's one-time link, this page is never needed.)
 */
import { useState } from "preact/hooks";
import { messageOf } from "../api/client";
import { signIn } from "../api/session";
import { describedBy, Field } from "../ui/Field";

export function SignInPage({ onSignedIn }: { onSignedIn: () => Promise<void> }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (!token.trim()) {
      setError("Paste an API token.");
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await signIn(token.trim());
      setToken("");
      history.replaceState(null, "", location.pathname === "/sign-in" ? "/" : location.pathname);
      await onSignedIn();
    } catch (failure) {
      setError(messageOf(failure));
      setBusy(false);
    }
  };
  return (
    <main id="main" class="sign-in">
      <h1>model-gateway</h1>
      <form class="card" onSubmit={submit}>
        <h2>Sign in</h2>
        <Field id="api-token" label="API token" error={error} hint="Ask your administrator for an API token. It is exchanged for a session and not kept by this page.">
          <input id="api-token" type="password" autoComplete="off" value={token} autoFocus
                 aria-invalid={error ? true : undefined} aria-describedby={describedBy("api-token", error, true)}
                 onInput={(event) => setToken(event.currentTarget.value)} />
        </Field>
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>Sign in</button>
        </div>
      </form>
    </main>
  );
}
