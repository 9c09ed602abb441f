/** The History tab: who changed what and why, newest first, each entry's full spec on `View`. */
import { useEffect, useState } from "preact/hooks";
import { messageOf, query } from "../../api/client";
import type { DeploymentSpec, HistoryItem } from "../../api/types";
import { Dialog } from "../../ui/Dialog";
import { EnvTable, MetadataTable } from "../../ui/EnvTable";
import { orDash, utc } from "../../ui/format";
import { Notice } from "../../ui/Notice";

export function HistoryTab({ id, version }: { id: string; version: string | null }) {
  const [items, setItems] = useState<HistoryItem[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [viewing, setViewing] = useState<HistoryItem | null>(null);
  useEffect(() => {
    query<{ phDeployment: { history: HistoryItem[] | null } }>("DeploymentHistory", { id })
      .then((data) => { setItems(data.phDeployment.history ?? []); setError(null); },
            (failure) => setError(messageOf(failure)));
  }, [id, version]);
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
              <td><button type="button" class="link-button" aria-label={`View the deployment of ${utc(item.time)}`}
                          onClick={() => setViewing(item)}>View</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      {viewing?.deployment && (
        <Dialog title={`Deployment of ${utc(viewing.time)}`} wide onClose={() => setViewing(null)}>
          <HistorySpec spec={viewing.deployment} time={viewing.time} />
        </Dialog>
      )}
    </>
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
