/**
 * The Deployments page (PrimeHub's overview): one card per deployment of the selected group,
 * live. `Search by name` and `Deployed By Me` filter in the page, so typing stays instant with
 * a thousand deployments; cards are drawn a page at a time.
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import { messageOf, mutate, query } from "../api/client";
import { useDeploymentList } from "../api/live";
import type { DeploymentCard, License } from "../api/types";
import { navigate } from "../router";
import { useApp } from "../state";
import { utc } from "../ui/format";
import { InlineCode } from "../ui/InlineCode";
import { Link } from "../ui/Link";
import { Notice } from "../ui/Notice";
import { StatusBadge } from "../ui/StatusBadge";

const PAGE = 60;
// The first frame draws only what a large screen shows (6 columns of 4 rows); the rest of the
// page of cards follows right after it is painted (the effect below), so the first paint does
// not wait for cards nobody can see yet.
const FIRST_SCREEN = 24;

export function FeatureNotAvailable() {
  return (
    <Notice kind="info" title="Feature not available">
      Model Deployment is not enabled for this group. Please contact your administrator to
      enable it.
    </Notice>
  );
}

export interface LicenseState {
  /** More deployments run than licensed plus PrimeHub's 10% grace: creating is disabled. */
  exceeded: boolean;
  warning: string | null;
}

/** PrimeHub's rule: warn (and disable creating) past the licensed number plus 10%. */
export function licenseState(license: License | null): LicenseState {
  if (license === null) return { exceeded: false, warning: null };
  const max = license.maxModelDeploy ?? -1;
  const used = license.usage?.maxModelDeploy ?? 0;
  if (max >= 0 && used > max * 1.1) {
    return { exceeded: true, warning: `${used} deployments are running and the license allows ${max}.` };
  }
  if (license.licenseStatus === "expired") {
    return { exceeded: false, warning: `The license expired on ${utc(license.expiredAt)}: deployments cannot be started.` };
  }
  return { exceeded: false, warning: null };
}

export function useLicense(): LicenseState {
  const [license, setLicense] = useState<License | null>(null);
  useEffect(() => {
    query<{ license: License | null }>("License").then((data) => setLicense(data.license), () => setLicense(null));
  }, []);
  return licenseState(license);
}

export function LicenseWarning({ license }: { license: LicenseState }) {
  if (license.warning === null) return null;
  return (
    <Notice kind="warning" title="License warning">
      {license.warning} Please contact your system administrator for assistance to upgrade your
      license to run more models.
    </Notice>
  );
}

export function DeploymentListPage() {
  const { me, group } = useApp();
  const list = useDeploymentList(group?.enabledDeployment === false ? null : group?.id ?? null);
  const license = useLicense();
  const [search, setSearch] = useState("");
  const [mine, setMine] = useState(false);
  const [limit, setLimit] = useState(FIRST_SCREEN);
  const [refreshing, setRefreshing] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);

  useEffect(() => setLimit(PAGE), [search, mine, group?.id]); // after the first paint, too
  const shown = useMemo(() => {
    const needle = search.trim().toLowerCase();
    return (list.items ?? []).filter((card) =>
      (!mine || card.userName === me.username)
      && (needle === "" || card.id.includes(needle) || (card.name ?? "").toLowerCase().includes(needle)));
  }, [list.items, search, mine, me.username]);

  if (group === null) {
    return <Notice kind="info" title="No group">You are not a member of any group yet. Ask your administrator to add you to one.</Notice>;
  }
  if (group.enabledDeployment === false) {
    return (<><h1>Deployments</h1><FeatureNotAvailable /></>);
  }
  const refresh = async (): Promise<void> => {
    setRefreshing(true);
    await list.refresh();
    setRefreshing(false);
  };
  const toggle = async (card: DeploymentCard): Promise<void> => {
    setActionError(null);
    try {
      // The card changes when the subscription says so: the mutation's own answer may be
      // older than an event already applied, and must not overwrite it.
      await mutate(card.stop ? "StartDeployment" : "StopDeployment", { id: card.id });
    } catch (failure) {
      setActionError(`${card.name ?? card.id}: ${messageOf(failure)}`);
    }
  };
  return (
    <section aria-labelledby="list-title">
      <LicenseWarning license={license} />
      <div class="page-head">
        <h1 id="list-title">Deployments</h1>
        <button type="button" class="primary" disabled={license.exceeded}
                onClick={() => navigate("/create")}>+ Create Deployment</button>
      </div>
      <div class="toolbar" role="search">
        <label for="search" class="toolbar-label">Search by name</label>
        <input id="search" type="search" placeholder="Name or ID" value={search}
               onInput={(event) => setSearch(event.currentTarget.value)} />
        <label class="checkbox">
          <input type="checkbox" checked={mine} onChange={(event) => setMine(event.currentTarget.checked)} />
          Deployed By Me
        </label>
        <button type="button" onClick={refresh} disabled={refreshing}>Refresh</button>
      </div>
      {list.error && <Notice kind="error">{list.error}</Notice>}
      {actionError && <Notice kind="error">{actionError}</Notice>}
      {list.items === null ? <p role="status">Loading deployments…</p> : (
        <>
          <p class="muted" role="status">{countText(shown.length, list.items.length)}</p>
          <ul class="cards" aria-label="Deployments">
            {shown.slice(0, limit).map((card) => <Card key={card.id} card={card} onToggle={toggle} />)}
          </ul>
          {shown.length > limit && limit >= PAGE && (
            <button type="button" class="more" onClick={() => setLimit(limit + PAGE * 4)}>
              Show more ({shown.length - limit} more)
            </button>
          )}
        </>
      )}
    </section>
  );
}

function countText(shown: number, total: number): string {
  if (total === 0) return "No deployments in this group yet.";
  const noun = total === 1 ? "deployment" : "deployments";
  return shown === total ? `${total} ${noun}` : `${shown} of ${total} ${noun}`;
}

function Card({ card, onToggle }: { card: DeploymentCard; onToggle: (card: DeploymentCard) => Promise<void> }) {
  const [busy, setBusy] = useState(false);
  const href = `/deployments/${encodeURIComponent(card.id)}`;
  const titleId = `card-${card.id}`;
  const toggle = async (): Promise<void> => {
    setBusy(true);
    await onToggle(card);
    setBusy(false);
  };
  return (
    <li class="card deployment-card" aria-labelledby={titleId}>
      <div class="card-head">
        <h2 id={titleId}><Link href={href}>{card.name || card.id}</Link></h2>
        <StatusBadge status={card.status} />
      </div>
      {card.failure && <p class="card-failure"><InlineCode text={card.failure.summary} /></p>}
      <dl class="facts">
        <dt>Endpoint</dt>
        <dd class="endpoint">{card.stop ? "—" : card.endpoint ?? "—"}</dd>
        <dt>Last Updated</dt>
        <dd>{utc(card.lastUpdatedTime)} by {card.userName ?? "—"}</dd>
      </dl>
      <div class="card-actions">
        <Link href={href} class="button">Manage</Link>
        <button type="button" disabled={busy} onClick={toggle}
                aria-label={`${card.stop ? "Start" : "Stop"} ${card.name || card.id}`}>
          {card.stop ? "Start" : "Stop"}
        </button>
      </div>
    </li>
  );
}
