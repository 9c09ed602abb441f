/**
 * The Clients tab of a private deployment: `Client Name` and `Add client`; the new token is
 * shown once with a copy button and a warning, never again. Deleting asks first.
 */
import { useState } from "preact/hooks";
import { mutate, RequestFailed, messageOf } from "../../api/client";
import type { Deployment } from "../../api/types";
import { ConfirmDialog } from "../../ui/ConfirmDialog";
import { describedBy, Field } from "../../ui/Field";
import { OneTimeToken } from "../../ui/OneTimeToken";

interface Created {
  name: string;
  token: string;
}

export function ClientsTab({ deployment, onChange }: { deployment: Deployment; onChange: (deployment: Deployment) => void }) {
  const [name, setName] = useState("");
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<Created | null>(null);
  const [deleting, setDeleting] = useState<string | null>(null);
  const clients = (deployment.endpointClients ?? []).map((client) => client.name ?? "").filter(Boolean);

  const add = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (name.trim() === "") {
      setError("Enter a Client Name.");
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const data = await mutate<{ createPhDeploymentClient: { name: string; plainTextToken: string } }>(
        "CreateClient", { deploymentId: deployment.id, name: name.trim() });
      const client = data.createPhDeploymentClient;
      setCreated({ name: client.name, token: client.plainTextToken });
      if (!clients.includes(client.name)) {
        onChange({ ...deployment, endpointClients: [...(deployment.endpointClients ?? []), { name: client.name }] });
      }
      setName("");
    } catch (failure) {
      setError(failure instanceof RequestFailed ? failure.message : messageOf(failure));
    }
    setBusy(false);
  };
  const remove = async (client: string): Promise<void> => {
    const data = await mutate<{ deletePhDeploymentClient: { endpointClients: { name: string | null }[] | null } | null }>(
      "DeleteClient", { deploymentId: deployment.id, name: client });
    onChange({ ...deployment, endpointClients: data.deletePhDeploymentClient?.endpointClients
      ?? (deployment.endpointClients ?? []).filter((item) => item.name !== client) });
    if (created?.name === client) setCreated(null);
  };
  return (
    <div class="clients">
      <form class="inline-form" onSubmit={add}>
        <Field id="client-name" label="Client Name" error={error}>
          <input id="client-name" value={name} autoComplete="off" aria-invalid={error ? true : undefined}
                 aria-describedby={describedBy("client-name", error)}
                 onInput={(event) => setName(event.currentTarget.value)} />
        </Field>
        <button type="submit" class="primary" disabled={busy}>Add client</button>
      </form>
      {created && (
        <OneTimeToken label={`Client Token for ${created.name}`} token={created.token} onDone={() => setCreated(null)} />
      )}
      <table class="table">
        <caption>Clients</caption>
        <thead><tr><th scope="col">Client Name</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          {clients.length === 0 && <tr><td colSpan={2} class="muted">No clients yet: callers cannot reach this private endpoint.</td></tr>}
          {clients.map((client) => (
            <tr key={client}>
              <td><code>{client}</code></td>
              <td><button type="button" class="danger" aria-label={`Delete client ${client}`}
                          onClick={() => setDeleting(client)}>Delete</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted">Call the endpoint as a client with <code>curl -u &lt;client-name&gt;:&lt;client-token&gt; …</code>;
        the model sees the client name in the <code>X-Forwarded-User</code> header.</p>
      {deleting !== null && (
        <ConfirmDialog title="Delete client" confirmLabel="Delete"
                       message={`Delete the client ${deleting}? Its token stops working at once.`}
                       onConfirm={() => remove(deleting)} onClose={() => setDeleting(null)} />
      )}
    </div>
  );
}
