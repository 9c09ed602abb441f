/**
 * The Clients tab of a private deployment: `Client Name` (and an optional expiry) and `Add
 * client`; each client with when it was created and by whom, when it expires, when it was last
 * used and last rotated. A new or rotated token is shown once with a copy button and a warning,
 * never again. `Rotate` replaces a token without an outage: the old one keeps working for the
 * overlap asked for. Deleting asks first.
 */
import { useState } from "preact/hooks";
import { mutate } from "../../api/client";
import type { Deployment, EndpointClient } from "../../api/types";
import { ConfirmDialog } from "../../ui/ConfirmDialog";
import { describedBy, Field } from "../../ui/Field";
import { utc } from "../../ui/format";
import { Errors } from "../../ui/Notice";
import { OneTimeToken } from "../../ui/OneTimeToken";
import { RotateDialog } from "../../ui/RotateDialog";
import { useSubmit } from "../../ui/useSubmit";

interface Shown {
  label: string;
  name: string;
  token: string;
}

interface TokenAnswer {
  name: string;
  plainTextToken: string;
}

/** A `datetime-local` value (read as UTC) for the API, or null when blank. */
export function utcOrNull(local: string): string | null {
  return local === "" ? null : `${local.length === 16 ? `${local}:00` : local}Z`;
}

function expiry(client: EndpointClient, now: number): string {
  if (!client.expiresAt) return "Never";
  const expired = new Date(client.expiresAt).getTime() <= now;
  return expired ? `${utc(client.expiresAt)} (expired)` : utc(client.expiresAt);
}

export function ClientsTab({ deployment, onChange, reload }: {
  deployment: Deployment; onChange: (deployment: Deployment) => void; reload: () => Promise<void>;
}) {
  const [name, setName] = useState("");
  const [expiresAt, setExpiresAt] = useState("");
  const add = useSubmit();
  const [shown, setShown] = useState<Shown | null>(null);
  const [deleting, setDeleting] = useState<string | null>(null);
  const [rotating, setRotating] = useState<string | null>(null);
  const clients = (deployment.endpointClients ?? []).filter((client) => client.name);
  const now = Date.now();

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (name.trim() === "") {
      add.fail(new Map([["name", "Enter a Client Name."]]));
      return;
    }
    await add.run(async () => {
      const data = await mutate<{ createPhDeploymentClient: TokenAnswer }>("CreateClient", {
        deploymentId: deployment.id, name: name.trim(), expiresAt: utcOrNull(expiresAt) });
      const client = data.createPhDeploymentClient;
      setShown({ label: `Client Token for ${client.name}`, name: client.name, token: client.plainTextToken });
      setName("");
      setExpiresAt("");
      await reload();
    }, new Set(["name", "expiresAt"]));
  };
  const remove = async (client: string, reason: string | null): Promise<void> => {
    const data = await mutate<{ deletePhDeploymentClient: { endpointClients: EndpointClient[] | null } | null }>(
      "DeleteClient", { deploymentId: deployment.id, name: client, reason });
    onChange({ ...deployment, endpointClients: data.deletePhDeploymentClient?.endpointClients
      ?? (deployment.endpointClients ?? []).filter((item) => item.name !== client) });
    if (shown?.name === client) setShown(null);
  };
  const rotated = async (answer: TokenAnswer): Promise<void> => {
    setShown({ label: `New Client Token for ${answer.name}`, name: answer.name, token: answer.plainTextToken });
    setRotating(null);
    await reload();
  };
  return (
    <div class="clients">
      <form class="inline-form" onSubmit={submit} noValidate>
        <Field id="client-name" label="Client Name" error={add.errors.get("name")}>
          <input id="client-name" value={name} autoComplete="off" aria-invalid={add.errors.has("name") ? true : undefined}
                 aria-describedby={describedBy("client-name", add.errors.get("name"))}
                 onInput={(event) => setName(event.currentTarget.value)} />
        </Field>
        <Field id="client-expires" label="Expires (UTC, optional)" error={add.errors.get("expiresAt")}>
          <input id="client-expires" type="datetime-local" value={expiresAt}
                 aria-invalid={add.errors.has("expiresAt") ? true : undefined}
                 aria-describedby={describedBy("client-expires", add.errors.get("expiresAt"))}
                 onInput={(event) => setExpiresAt(event.currentTarget.value)} />
        </Field>
        <button type="submit" class="primary" disabled={add.busy}>Add client</button>
      </form>
      <Errors messages={add.general} />
      {shown && <OneTimeToken label={shown.label} token={shown.token} onDone={() => setShown(null)} />}
      <table class="table">
        <caption>Clients</caption>
        <thead>
          <tr><th scope="col">Client Name</th><th scope="col">Created</th><th scope="col">Expires</th>
            <th scope="col">Last Used</th><th scope="col">Rotated</th>
            <th scope="col"><span class="visually-hidden">Actions</span></th></tr>
        </thead>
        <tbody>
          {clients.length === 0 && <tr><td colSpan={6} class="muted">No clients yet: callers cannot reach this private endpoint.</td></tr>}
          {clients.map((client) => (
            <tr key={client.name}>
              <td><code>{client.name}</code></td>
              <td>{utc(client.createdAt)}{client.createdBy ? ` by ${client.createdBy}` : ""}</td>
              <td>{expiry(client, now)}</td>
              <td>{client.lastUsedAt ? utc(client.lastUsedAt) : "Never"}</td>
              <td>{client.rotatedAt ? utc(client.rotatedAt) : "—"}</td>
              <td><div class="row-actions">
                <button type="button" aria-label={`Rotate client ${client.name}`}
                        onClick={() => setRotating(client.name)}>Rotate</button>
                <button type="button" class="danger" aria-label={`Delete client ${client.name}`}
                        onClick={() => setDeleting(client.name)}>Delete</button>
              </div></td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted">Call the endpoint as a client with <code>curl -u &lt;client-name&gt;:&lt;client-token&gt; …</code>;
        the model sees the client name in the <code>X-Forwarded-User</code> header. Last use is as of
        the proxies' last report (every few seconds).</p>
      {rotating !== null && (
        <RotateDialog title={`Rotate client ${rotating}`} onClose={() => setRotating(null)} onRotate={async (overlapSeconds) => {
          const data = await mutate<{ rotatePhDeploymentClient: TokenAnswer }>("RotateClient", {
            deploymentId: deployment.id, name: rotating, overlapSeconds });
          await rotated(data.rotatePhDeploymentClient);
        }} />
      )}
      {deleting !== null && (
        <ConfirmDialog title="Delete client" confirmLabel="Delete" reasonLabel="Reason (optional)"
                       message={`Delete the client ${deleting}? Its token stops working at once.`}
                       onConfirm={(reason) => remove(deleting, reason)} onClose={() => setDeleting(null)} />
      )}
    </div>
  );
}
