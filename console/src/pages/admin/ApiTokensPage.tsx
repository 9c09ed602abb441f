/**
 * Admin: API tokens. Issue one for a user (optionally admin, optionally expiring), see it once
 * with a copy button, and revoke any token at once.
 */
import { useEffect, useState } from "preact/hooks";
import { messageOf, mutate, query } from "../../api/client";
import type { ApiToken } from "../../api/types";
import { ConfirmDialog } from "../../ui/ConfirmDialog";
import { orDash, utc } from "../../ui/format";
import { CheckboxInput, TextInput } from "../../ui/inputs";
import { Errors, Notice } from "../../ui/Notice";
import { OneTimeToken } from "../../ui/OneTimeToken";
import { useSubmit } from "../../ui/useSubmit";

const FIELDS = new Set(["username", "admin", "expiresAt", "description"]);

/** A date input's day as the end of that day in UTC (a token works through its last day). */
export function endOfDay(day: string): string | null {
  return day === "" ? null : `${day}T23:59:59Z`;
}

export function ApiTokensPage() {
  const [tokens, setTokens] = useState<ApiToken[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<ApiToken | null>(null);
  const [issued, setIssued] = useState<{ username: string; token: string } | null>(null);
  const [values, setValues] = useState({ username: "", admin: false, expiresAt: "", description: "" });
  const submit = useSubmit();
  const load = async (): Promise<void> => {
    try {
      setTokens((await query<{ apiTokens: ApiToken[] }>("ApiTokens")).apiTokens);
    } catch (failure) {
      setError(messageOf(failure));
    }
  };
  useEffect(() => { void load(); }, []);
  const issue = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (values.username.trim() === "") {
      submit.fail(new Map([["username", "Enter the user name the token acts as."]]));
      return;
    }
    await submit.run(async () => {
      const data = await mutate<{ createApiToken: { token: string; apiToken: ApiToken } }>("CreateApiToken", {
        data: { username: values.username.trim(), admin: values.admin, expiresAt: endOfDay(values.expiresAt),
                description: values.description.trim() || null },
      });
      setIssued({ username: data.createApiToken.apiToken.username, token: data.createApiToken.token });
      setValues({ username: "", admin: false, expiresAt: "", description: "" });
      await load();
    }, FIELDS);
  };
  return (
    <section aria-labelledby="tokens-title">
      <h1 id="tokens-title">API Tokens</h1>
      <form class="form card" onSubmit={issue} noValidate aria-labelledby="issue-title">
        <h2 id="issue-title">Issue a token</h2>
        <Errors messages={submit.general} />
        <div class="row">
          <TextInput id="username" label="Username" value={values.username} error={submit.errors.get("username")}
                     onValue={(username) => setValues({ ...values, username })} />
          <TextInput id="expiresAt" label="Expires (UTC, end of day)" type="date" value={values.expiresAt}
                     error={submit.errors.get("expiresAt")} hint="Blank: never expires."
                     onValue={(expiresAt) => setValues({ ...values, expiresAt })} />
        </div>
        <TextInput id="description" label="Description" value={values.description} error={submit.errors.get("description")}
                   onValue={(description) => setValues({ ...values, description })} />
        <CheckboxInput id="admin" label="Administrator" checked={values.admin} error={submit.errors.get("admin")}
                       onValue={(admin) => setValues({ ...values, admin })} />
        <div class="actions"><button type="submit" class="primary" disabled={submit.busy}>Issue token</button></div>
      </form>
      {issued && <OneTimeToken label={`API token for ${issued.username}`} token={issued.token} onDone={() => setIssued(null)} />}
      {error && <Notice kind="error">{error}</Notice>}
      {tokens === null ? <p role="status">Loading…</p> : (
        <table class="table">
          <caption>Tokens</caption>
          <thead>
            <tr><th scope="col">ID</th><th scope="col">Username</th><th scope="col">Administrator</th><th scope="col">Created</th>
              <th scope="col">Expires</th><th scope="col">Description</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr>
          </thead>
          <tbody>
            {tokens.map((token) => (
              <tr key={token.id}>
                <td><code>{token.id}</code></td><td>{token.username}</td><td>{token.admin ? "Yes" : "No"}</td>
                <td>{utc(token.createdAt)}</td><td>{token.expiresAt ? utc(token.expiresAt) : "Never"}</td>
                <td>{orDash(token.description)}</td>
                <td><button type="button" class="danger" aria-label={`Revoke token ${token.id}`}
                            onClick={() => setRevoking(token)}>Revoke</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {revoking !== null && (
        <ConfirmDialog title="Revoke token" confirmLabel="Revoke"
                       message={`Revoke token ${revoking.id} of ${revoking.username}? It stops working at once, and so do the sessions signed in with it.`}
                       onConfirm={async () => { await mutate("RevokeApiToken", { id: revoking.id }); await load(); }}
                       onClose={() => setRevoking(null)} />
      )}
    </section>
  );
}
