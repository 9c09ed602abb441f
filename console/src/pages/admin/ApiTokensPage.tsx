/**
 * Admin: API tokens. Issue one for a user (optionally admin, optionally expiring, with a
 * scope), see it once with a copy button; see who issued each, when it was last used and
 * rotated; rotate one with an overlap (the new value shown once), and revoke one at once,
 * with a reason for the audit trail.
 */
import { useEffect, useState } from "preact/hooks";
import { messageOf, mutate, query } from "../../api/client";
import type { ApiToken } from "../../api/types";
import { ConfirmDialog } from "../../ui/ConfirmDialog";
import { orDash, utc } from "../../ui/format";
import { describedBy, Field } from "../../ui/Field";
import { CheckboxInput, TextInput } from "../../ui/inputs";
import { Errors, Notice } from "../../ui/Notice";
import { OneTimeToken } from "../../ui/OneTimeToken";
import { RotateDialog } from "../../ui/RotateDialog";
import { useSubmit } from "../../ui/useSubmit";

const FIELDS = new Set(["username", "admin", "expiresAt", "description", "scopes"]);
/** Each scope includes the ones before it; blank: the most the issuer may give. */
const SCOPES = ["read", "deployments:write", "admin"];

interface Issued {
  label: string;
  token: string;
}

/** A date input's day as the end of that day in UTC (a token works through its last day). */
export function endOfDay(day: string): string | null {
  return day === "" ? null : `${day}T23:59:59Z`;
}

export function ApiTokensPage() {
  const [tokens, setTokens] = useState<ApiToken[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<ApiToken | null>(null);
  const [rotating, setRotating] = useState<ApiToken | null>(null);
  const [issued, setIssued] = useState<Issued | null>(null);
  const empty = { username: "", admin: false, expiresAt: "", description: "", scope: "" };
  const [values, setValues] = useState(empty);
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
                description: values.description.trim() || null, scopes: values.scope === "" ? null : [values.scope] },
      });
      setIssued({ label: `API token for ${data.createApiToken.apiToken.username}`, token: data.createApiToken.token });
      setValues(empty);
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
        <div class="row">
          <TextInput id="description" label="Description" value={values.description} error={submit.errors.get("description")}
                     onValue={(description) => setValues({ ...values, description })} />
          <Field id="scope" label="Scope" error={submit.errors.get("scopes")}
                 hint="read: queries only; deployments:write: also deployments and their clients; admin: everything.">
            <select id="scope" value={values.scope} aria-invalid={submit.errors.has("scopes") ? true : undefined}
                    aria-describedby={describedBy("scope", submit.errors.get("scopes"), true)}
                    onChange={(event) => setValues({ ...values, scope: event.currentTarget.value })}>
              <option value="">All the user's rights</option>
              {SCOPES.map((scope) => <option key={scope} value={scope}>{scope}</option>)}
            </select>
          </Field>
        </div>
        <CheckboxInput id="admin" label="Administrator" checked={values.admin} error={submit.errors.get("admin")}
                       onValue={(admin) => setValues({ ...values, admin })} />
        <div class="actions"><button type="submit" class="primary" disabled={submit.busy}>Issue token</button></div>
      </form>
      {issued && <OneTimeToken label={issued.label} token={issued.token} onDone={() => setIssued(null)} />}
      {error && <Notice kind="error">{error}</Notice>}
      {tokens === null ? <p role="status">Loading…</p> : (
        <table class="table">
          <caption>Tokens</caption>
          <thead>
            <tr><th scope="col">ID</th><th scope="col">Username</th><th scope="col">Scope</th><th scope="col">Issued</th>
              <th scope="col">Expires</th><th scope="col">Last Used</th><th scope="col">Rotated</th>
              <th scope="col">Description</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr>
          </thead>
          <tbody>
            {tokens.map((token) => (
              <tr key={token.id}>
                <td><code>{token.id}</code></td>
                <td>{token.username}{token.admin ? " (admin)" : ""}</td>
                <td>{token.scopes.join(", ") || "—"}</td>
                <td>{utc(token.createdAt)}{token.createdBy ? ` by ${token.createdBy}` : ""}</td>
                <td>{token.expiresAt ? utc(token.expiresAt) : "Never"}</td>
                <td>{token.lastUsedAt ? utc(token.lastUsedAt) : "Never"}</td>
                <td>{token.rotatedAt ? utc(token.rotatedAt) : "—"}
                  {token.previousExpiresAt ? <span class="muted"> (old value until {utc(token.previousExpiresAt)})</span> : null}</td>
                <td>{orDash(token.description)}</td>
                <td><div class="row-actions">
                  <button type="button" aria-label={`Rotate token ${token.id}`} onClick={() => setRotating(token)}>Rotate</button>
                  <button type="button" class="danger" aria-label={`Revoke token ${token.id}`}
                          onClick={() => setRevoking(token)}>Revoke</button>
                </div></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {revoking !== null && (
        <ConfirmDialog title="Revoke token" confirmLabel="Revoke" reasonLabel="Reason (optional)"
                       message={`Revoke token ${revoking.id} of ${revoking.username}? It stops working at once, and so do the sessions signed in with it.`}
                       onConfirm={async (reason) => { await mutate("RevokeApiToken", { id: revoking.id, reason }); await load(); }}
                       onClose={() => setRevoking(null)} />
      )}
      {rotating !== null && (
        <RotateDialog title={`Rotate token ${rotating.id}`} onClose={() => setRotating(null)} onRotate={async (overlapSeconds) => {
          const data = await mutate<{ rotateApiToken: { token: string; apiToken: ApiToken } }>("RotateApiToken", {
            id: rotating.id, overlapSeconds });
          setIssued({ label: `New API token value for ${data.rotateApiToken.apiToken.username}`, token: data.rotateApiToken.token });
          setRotating(null);
          await load();
        }} />
      )}
    </section>
  );
}
