/**
 * The History tab: who changed what and why, newest first, each entry's full spec on `View`,
 * and `Rollback` to write an older entry's spec back (the endpoint, clients and access type
 * stay as they are; the history records the rollback). The page follows the deployment live,
 * so the new entry and the status changes arrive by themselves.
 */
import { useEffect, useState } from "preact/hooks";
import { messageOf, mutate, query } from "../../api/client";
import type { Deployment, DeploymentSpec, HistoryItem } from "../../api/types";
import { Dialog } from "../../ui/Dialog";
import { EnvTable, MetadataTable } from "../../ui/EnvTable";
import { orDash, utc } from "../../ui/format";
import { TextInput } from "../../ui/inputs";
import { Errors, Notice } from "../../ui/Notice";
import { useSubmit } from "../../ui/useSubmit";

/** `current` is the deployment as last pushed: the controller writes the history into its
 * status, so every push may bring an entry, and the history is read again. */
export function HistoryTab({ id, current }: { id: string; current: Deployment }) {
  const [items, setItems] = useState<HistoryItem[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [viewing, setViewing] = useState<HistoryItem | null>(null);
  const [rollingBack, setRollingBack] = useState<HistoryItem | null>(null);
  useEffect(() => {
    query<{ phDeployment: { history: HistoryItem[] | null } }>("DeploymentHistory", { id })
      .then((data) => { setItems(data.phDeployment.history ?? []); setError(null); },
            (failure) => setError(messageOf(failure)));
  }, [id, current]);
  if (error) return <Notice kind="error">{error}</Notice>;
  if (items === null) return <p role="status">Loading history…</p>;
  return (
    <>
      <table class="table">
        <caption>History, newest first</caption>
        <thead>
          <tr><th scope="col">Time</th><th scope="col">User</th><th scope="col">Update Message</th><th scope="col"><span class="visually-hidden">Details</span></th></tr>
        </thead>
        <tbody>
          {items.length === 0 && <tr><td colSpan={4} class="muted">No history yet.</td></tr>}
          {items.map((item, index) => (
            <tr key={`${item.time}-${index}`}>
              <td>{utc(item.time)}</td>
              <td>{orDash(item.deployment?.userName)}</td>
              <td>{orDash(item.deployment?.updateMessage)}</td>
              <td><div class="row-actions">
                <button type="button" class="link-button" aria-label={`View the deployment of ${utc(item.time)}`}
                        onClick={() => setViewing(item)}>View</button>
                {index > 0 && item.deployment?.id && (
                  <button type="button" aria-label={`Rollback to the deployment of ${utc(item.time)}`}
                          onClick={() => setRollingBack(item)}>Rollback</button>
                )}
              </div></td>
            </tr>
          ))}
        </tbody>
      </table>
      {viewing?.deployment && (
        <Dialog title={`Deployment of ${utc(viewing.time)}`} wide onClose={() => setViewing(null)}>
          <HistorySpec spec={viewing.deployment} time={viewing.time} />
        </Dialog>
      )}
      {rollingBack?.deployment && (
        <RollbackDialog id={id} historyId={rollingBack.deployment.id} time={rollingBack.time}
                        onClose={() => setRollingBack(null)} />
      )}
    </>
  );
}

function RollbackDialog({ id, historyId, time, onClose }: {
  id: string; historyId: string; time: string | null; onClose: () => void;
}) {
  const [message, setMessage] = useState("");
  const submit = useSubmit();
  const rollback = async (event: Event): Promise<void> => {
    event.preventDefault();
    const done = await submit.run(async () => {
      await mutate("RollbackDeployment", { id, historyId, updateMessage: message.trim() || null });
    }, new Set(["updateMessage"]));
    if (done) onClose();
  };
  return (
    <Dialog title="Rollback" onClose={onClose}>
      <form onSubmit={rollback} noValidate>
        <p>Write the deployment of {utc(time)} back: its model, predictors, replicas, variables and
          the rest. The endpoint, its clients and access type stay as they are now.</p>
        <TextInput id="rollback-message" label="Update Message" value={message}
                   error={submit.errors.get("updateMessage")} hint="Optional; the history says which entry was restored."
                   onValue={setMessage} />
        <Errors messages={submit.general} />
        <div class="actions">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" class="primary" disabled={submit.busy}>Rollback</button>
        </div>
      </form>
    </Dialog>
  );
}

function HistorySpec({ spec, time }: { spec: DeploymentSpec; time: string | null }) {
  const clients = (spec.endpointClients ?? []).map((client) => client.name).filter(Boolean).join(", ");
  const facts: [string, string][] = [
    ["User", orDash(spec.userName)],
    ["Deployment Stopped", spec.stop ? "true" : "false"],
    ["Model Image", orDash(spec.modelImage)],
    ["Model URI", orDash(spec.modelURI)],
    ["Replicas", orDash(spec.replicas)],
    ["Group", orDash(spec.groupName ?? spec.groupId)],
    ["Instance Type", orDash(spec.instanceType?.name ?? spec.instanceType?.id)],
    ["Timestamp", utc(time)],
    ["Description", orDash(spec.description)],
    ["Update Message", orDash(spec.updateMessage)],
    ["Access Type", spec.endpointAccessType === "private" ? "Private" : "Public"],
    ["Clients", spec.endpointAccessType === "private" ? (clients || "none") : "—"],
  ];
  return (
    <>
      <dl class="facts facts-wide">
        {facts.map(([label, value]) => [<dt key={`${label}-t`}>{label}</dt>, <dd key={`${label}-d`}>{value}</dd>])}
      </dl>
      <MetadataTable metadata={spec.metadata} />
      <EnvTable env={spec.env} />
    </>
  );
}
