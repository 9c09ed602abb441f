/**
 * Admin: the audit trail. Every management mutation and every streak of refused tokens, newest
 * first, filtered by target (a deployment also finds its clients), actor, action and a time
 * range (UTC), a page at a time: `Older` follows the API's cursor, `Newer` goes back.
 */
import { useEffect, useState } from "preact/hooks";
import { query } from "../../api/client";
import type { AuditEvent, AuditPage as Page } from "../../api/types";
import { orDash, utc } from "../../ui/format";
import { TextInput } from "../../ui/inputs";
import { Errors } from "../../ui/Notice";
import { useSubmit } from "../../ui/useSubmit";
import { utcOrNull } from "../detail/ClientsTab";

const PER_PAGE = 50;
const FIELDS = new Set(["target", "actor", "action", "since", "until", "after", "first"]);

interface Filters {
  target: string;
  actor: string;
  action: string;
  since: string;
  until: string;
}

const NONE: Filters = { target: "", actor: "", action: "", since: "", until: "" };

/** The API's `where` for the filters: blank fields are left out. */
export function auditWhere(filters: Filters): Record<string, string> {
  const where: Record<string, string> = {};
  for (const key of ["target", "actor", "action"] as const) {
    if (filters[key].trim() !== "") where[key] = filters[key].trim();
  }
  const since = utcOrNull(filters.since);
  const until = utcOrNull(filters.until);
  if (since !== null) where["since"] = since;
  if (until !== null) where["until"] = until;
  return where;
}

export function AuditPage() {
  const [filters, setFilters] = useState<Filters>(NONE);
  const [applied, setApplied] = useState<Filters>(NONE);
  // The cursors of the pages before this one (null: the newest page), and this page's.
  const [trail, setTrail] = useState<(string | null)[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [page, setPage] = useState<Page | null>(null);
  const submit = useSubmit();

  useEffect(() => {
    setPage(null);
    void submit.run(async () => {
      const data = await query<{ auditEvents: Page }>("AuditEvents", {
        where: auditWhere(applied), first: PER_PAGE, after: cursor });
      setPage(data.auditEvents);
    }, FIELDS);
  }, [applied, cursor]);

  const apply = (event: Event): void => {
    event.preventDefault();
    setTrail([]);
    setCursor(null);
    setApplied({ ...filters });
  };
  const set = (key: keyof Filters) => (value: string) => setFilters({ ...filters, [key]: value });
  const older = (): void => {
    if (!page?.pageInfo.endCursor) return;
    setTrail([...trail, cursor]);
    setCursor(page.pageInfo.endCursor);
  };
  const newer = (): void => {
    setCursor(trail[trail.length - 1] ?? null);
    setTrail(trail.slice(0, -1));
  };
  const events: AuditEvent[] = page?.edges.map((edge) => edge.node) ?? [];
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit</h1>
      <form class="form card" onSubmit={apply} noValidate aria-label="Filter audit events">
        <div class="row">
          <TextInput id="audit-target" label="Target" value={filters.target} error={submit.errors.get("target")}
                     hint="deployment/<id> also finds its clients" onValue={set("target")} />
          <TextInput id="audit-actor" label="Actor" value={filters.actor} error={submit.errors.get("actor")} onValue={set("actor")} />
          <TextInput id="audit-action" label="Action" value={filters.action} error={submit.errors.get("action")}
                     hint="e.g. deletePhDeployment" onValue={set("action")} />
        </div>
        <div class="row">
          <TextInput id="audit-since" label="Since (UTC)" type="datetime-local" value={filters.since}
                     error={submit.errors.get("since")} onValue={set("since")} />
          <TextInput id="audit-until" label="Until (UTC)" type="datetime-local" value={filters.until}
                     error={submit.errors.get("until")} onValue={set("until")} />
        </div>
        <div class="actions">
          <button type="button" onClick={() => { setFilters(NONE); setTrail([]); setCursor(null); setApplied(NONE); }}>Clear</button>
          <button type="submit" class="primary">Filter</button>
        </div>
      </form>
      <Errors messages={submit.general} />
      {page === null ? (submit.busy && <p role="status">Loading…</p>) : (
        <>
          <p class="muted" role="status">
            {events.length === 0 ? "No audit events match." : `Page ${trail.length + 1}: ${events.length} events, newest first.`}
          </p>
          {events.length > 0 && (
            <table class="table audit">
              <caption>Audit events</caption>
              <thead>
                <tr><th scope="col">Time</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Target</th>
                  <th scope="col">Outcome</th><th scope="col">Reason</th><th scope="col">Source</th><th scope="col">Request</th></tr>
              </thead>
              <tbody>
                {events.map((item) => (
                  <tr key={item.id}>
                    <td>{utc(item.time)}</td>
                    <td>{orDash(item.actor)}{item.actorTokenId ? <span class="muted"> (token {item.actorTokenId})</span> : null}</td>
                    <td><code>{item.action}</code></td>
                    <td><code>{item.target}</code></td>
                    <td class={item.outcome === "success" ? "" : "outcome-failed"}>{item.outcome}</td>
                    <td>{orDash(item.reason)}</td>
                    <td>{item.sourceAddress}{item.component === "proxy" ? " (proxy)" : ""}</td>
                    <td><code>{item.requestId}</code></td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <div class="actions pager">
            <button type="button" disabled={trail.length === 0 || submit.busy} onClick={newer}>Newer</button>
            <button type="button" disabled={!page.pageInfo.hasNextPage || submit.busy} onClick={older}>Older</button>
          </div>
        </>
      )}
    </section>
  );
}
