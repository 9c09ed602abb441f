/**
 * Live data for the pages: a query for the first paint, then GraphQL subscriptions keep it
 * current (no polling). The list subscribes before it queries and replays what arrived in
 * between; bursts of events are applied once per animation frame. A list read before its
 * subscription was live (the answer the server put into the first page, or one read while
 * the connection was down) is read again once it is live, and merged so that no event applied
 * meanwhile is overwritten by the older answer.
 */
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { messageOf, query, RequestFailed, subscribe, takeFirst } from "./client";
import type { Deployment, DeploymentCard } from "./types";

interface DeploymentEvent {
  type: "ADDED" | "MODIFIED" | "DELETED";
  id: string;
  deployment: DeploymentCard | null;
}

export interface LiveList {
  items: DeploymentCard[] | null;
  error: string | null;
  refresh: () => Promise<void>;
}

function newestFirst(a: DeploymentCard, b: DeploymentCard): number {
  return (b.lastUpdatedTime ?? "").localeCompare(a.lastUpdatedTime ?? "") || a.id.localeCompare(b.id);
}

interface DeploymentsAnswer {
  phDeployments: (DeploymentCard | null)[];
}

function present(data: DeploymentsAnswer): DeploymentCard[] {
  return data.phDeployments.filter((card): card is DeploymentCard => card !== null);
}

/** The variables of the list query (and subscription) for one group. */
export function listVariables(groupId: string): { where: { groupId_in: string[] } } {
  return { where: { groupId_in: [groupId] } };
}

/** The deployments of one group, kept current by the `phDeployments` subscription. */
export function useDeploymentList(groupId: string | null): LiveList {
  const cards = useRef(new Map<string, DeploymentCard>());
  // The list the page came with (see main.tsx) is drawn by the first render, no effect first.
  const seeded = useRef<string | null>(null);
  const [items, setItems] = useState<DeploymentCard[] | null>(() => {
    if (groupId === null) return null;
    const data = takeFirst<DeploymentsAnswer>("Deployments", listVariables(groupId));
    if (data === undefined) return null;
    seeded.current = groupId;
    cards.current = new Map(present(data).map((card) => [card.id, card]));
    return [...cards.current.values()].sort(newestFirst);
  });
  const [error, setError] = useState<string | null>(null);
  const frame = useRef<number | null>(null);
  const publish = useCallback((): void => {
    if (frame.current !== null) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = null;
      setItems([...cards.current.values()].sort(newestFirst));
    });
  }, []);
  const where = groupId === null ? null : listVariables(groupId).where;

  const load = useCallback(async (): Promise<DeploymentCard[] | null> => {
    if (where === null) return [];
    try {
      const data = await query<DeploymentsAnswer>("Deployments", { where });
      setError(null);
      return present(data);
    } catch (failure) {
      setError(messageOf(failure));
      return null;
    }
  }, [groupId]);

  // Ids changed by events while a re-read is under way: their cards are newer than its answer.
  const touched = useRef<Set<string> | null>(null);
  const reread = useCallback(async (): Promise<void> => {
    touched.current = new Set();
    const found = await load();
    const changed = touched.current;
    touched.current = null;
    if (found === null) return;
    const next = new Map(found.map((card) => [card.id, card]));
    for (const id of changed) {
      const current = cards.current.get(id);
      if (current === undefined) next.delete(id);
      else next.set(id, current);
    }
    cards.current = next;
    publish();
  }, [load, publish]);

  useEffect(() => {
    const first = seeded.current === groupId;
    seeded.current = null;
    if (!first) {
      cards.current = new Map();
      setItems(null);
    }
    if (where === null) {
      setItems([]);
      return undefined;
    }
    let loaded = first; // a seeded list is read again once the subscription is live
    let stale = false; // the connection became live before the first answer arrived
    let ended = false;
    const pending: DeploymentEvent[] = [];
    const apply = (event: DeploymentEvent): void => {
      if (event.type === "DELETED" || event.deployment === null) cards.current.delete(event.id);
      else cards.current.set(event.id, event.deployment);
      touched.current?.add(event.id);
    };
    const stop = subscribe<{ phDeployments: DeploymentEvent }>("DeploymentEvents", { where }, {
      next: ({ phDeployments: event }) => {
        if (!loaded) {
          pending.push(event);
          return;
        }
        apply(event);
        publish();
      },
      error: (failure: RequestFailed) => setError(failure.message),
      live: () => {
        if (ended) return;
        if (loaded) void reread();
        else stale = true;
      },
    });
    if (!first) void load().then((found) => {
      if (found === null || ended) return;
      cards.current = new Map(found.map((card) => [card.id, card]));
      pending.splice(0).forEach(apply);
      loaded = true;
      setItems([...cards.current.values()].sort(newestFirst)); // the first paint waits for no frame
      if (stale) void reread();
    });
    return () => {
      ended = true;
      stop();
      if (frame.current !== null) cancelAnimationFrame(frame.current);
      frame.current = null;
    };
  }, [groupId]);

  return { items, error, refresh: reread };
}

export interface LiveDeployment {
  deployment: Deployment | null;
  /** True once the deployment was deleted (the subscription sent null). */
  gone: boolean;
  error: RequestFailed | null;
  put: (deployment: Deployment) => void;
  reload: () => Promise<void>;
}

/** One deployment, kept current by the `phDeployment` subscription. */
export function useDeployment(id: string): LiveDeployment {
  const [deployment, setDeployment] = useState<Deployment | null>(null);
  const [gone, setGone] = useState(false);
  const [error, setError] = useState<RequestFailed | null>(null);
  const reload = useCallback(async (): Promise<void> => {
    try {
      const data = await query<{ phDeployment: Deployment }>("Deployment", { id });
      setDeployment(data.phDeployment);
      setError(null);
    } catch (failure) {
      setError(failure instanceof RequestFailed ? failure : new RequestFailed([{ message: messageOf(failure) }]));
    }
  }, [id]);
  useEffect(() => {
    setDeployment(null);
    setGone(false);
    setError(null);
    void reload();
    return subscribe<{ phDeployment: Deployment | null }>("DeploymentChanged", { id }, {
      next: ({ phDeployment }) => {
        if (phDeployment === null) setGone(true);
        else setDeployment(phDeployment);
      },
      error: (failure) => setError(failure),
    });
  }, [id]);
  return { deployment, gone, error, put: setDeployment, reload };
}
