/**
 * One deployment: its header actions (Stop/Start, Update, Delete) and the Information, Logs,
 * History and Clients tabs (Clients only for private access, as in PrimeHub). Everything on
 * it is live: a status change arrives through the subscription, not a reload.
 */
import { useState } from "preact/hooks";
import { messageOf, mutate } from "../api/client";
import { useDeployment } from "../api/live";
import { navigate } from "../router";
import { ConfirmDialog } from "../ui/ConfirmDialog";
import { InlineCode } from "../ui/InlineCode";
import { Link } from "../ui/Link";
import { Notice } from "../ui/Notice";
import { StatusBadge } from "../ui/StatusBadge";
import { Tabs, type Tab } from "../ui/Tabs";
import { ClientsTab } from "./detail/ClientsTab";
import { HistoryTab } from "./detail/HistoryTab";
import { InformationTab } from "./detail/InformationTab";
import { LogsTab } from "./detail/LogsTab";

export function DeploymentDetailPage({ id, tab }: { id: string; tab: string }) {
  const live = useDeployment(id);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const { deployment } = live;

  if (live.gone) {
    return <Notice kind="info" title="Deleted">This deployment was deleted. <Link href="/">Back to Deployments</Link></Notice>;
  }
  if (deployment === null) {
    if (live.error) return <Notice kind="error" title="This deployment cannot be shown">{live.error.message} <Link href="/">Back to Deployments</Link></Notice>;
    return <p role="status">Loading…</p>;
  }
  const base = `/deployments/${encodeURIComponent(id)}`;
  const tabs: Tab[] = [
    { id: "information", label: "Information", href: base },
    { id: "logs", label: "Logs", href: `${base}/logs` },
    { id: "history", label: "History", href: `${base}/history` },
    ...(deployment.endpointAccessType === "private" ? [{ id: "clients", label: "Clients", href: `${base}/clients` }] : []),
  ];
  const current = tabs.some((candidate) => candidate.id === tab) ? tab : "information";

  const run = async (name: "StartDeployment" | "StopDeployment"): Promise<void> => {
    setBusy(true);
    setActionError(null);
    try {
      // The page changes when the subscription says so: the mutation's answer may be older
      // than an event already applied.
      await mutate(name, { id });
    } catch (failure) {
      setActionError(messageOf(failure));
    }
    setBusy(false);
  };
  const remove = async (): Promise<void> => {
    await mutate("DeleteDeployment", { id });
    navigate("/");
  };
  return (
    <section aria-labelledby="detail-title">
      <p class="breadcrumb"><Link href="/">Deployments</Link> / {deployment.name ?? id}</p>
      <div class="page-head">
        <h1 id="detail-title">{deployment.name ?? id}</h1>
        <span aria-live="polite"><StatusBadge status={deployment.status} /></span>
        <div class="head-actions">
          {deployment.stop
            ? <button type="button" disabled={busy} onClick={() => run("StartDeployment")}>Start</button>
            : <button type="button" disabled={busy} onClick={() => run("StopDeployment")}>Stop</button>}
          <button type="button" onClick={() => navigate(`${base}/edit`)}>Update</button>
          <button type="button" class="danger" onClick={() => setConfirmDelete(true)}>Delete</button>
        </div>
      </div>
      {actionError && <Notice kind="error">{actionError}</Notice>}
      {deployment.failure && (
        <Notice kind="error" title={<>Failed: <InlineCode text={deployment.failure.summary} /></>}>
          <p><InlineCode text={deployment.failure.hint} /></p>
          {deployment.failure.detail && <p class="muted">Details: {deployment.failure.detail}</p>}
        </Notice>
      )}
      <Tabs label="Deployment" tabs={tabs} current={current}>
        {current === "information" && <InformationTab deployment={deployment} />}
        {current === "logs" && <LogsTab deployment={deployment} />}
        {current === "history" && <HistoryTab id={id} current={deployment} />}
        {current === "clients" && <ClientsTab deployment={deployment} onChange={live.put} reload={live.reload} />}
      </Tabs>
      {confirmDelete && (
        <ConfirmDialog title="Delete Deployment" confirmLabel="Delete"
                       message={`Deleting ${deployment.name ?? id} stops its pods and removes its endpoint, clients and history. This cannot be undone.`}
                       typeToConfirm={deployment.name ?? id} onConfirm={remove} onClose={() => setConfirmDelete(false)} />
      )}
    </section>
  );
}
