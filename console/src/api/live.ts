/**
 * Live data for the pages: a query for the first paint, then GraphQL subscriptions keep it
 * current (no polling). The list subscribes before it queries and replays what arrived in
 * between, so no change is lost; bursts of events are applied once per animation frame.
 */
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { messageOf, query, RequestFailed, subscribe } from "./client";
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

/** The variables of the list query (and subscription) for one group. */
export function listVariables(groupId: string): { where: { groupId_in: string[] } } {
  return { where: { groupId_in: [groupId] } };
}

/** The deployments of one group, kept current by the `phDeployments` subscription. */
export function useDeploymentList(groupId: string | null): LiveList {
  const cards = useRef(new Map<string, DeploymentCard>());
  const [items, setItems] = useState<DeploymentCard[] | null>(null);
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
      const data = await query<{ phDeployments: (DeploymentCard | null)[] }>("Deployments", { where });
      setError(null);
      return data.phDeployments.filter((card): card is DeploymentCard => card !== null);
    } catch (failure) {
      setError(messageOf(failure));
      return null;
    }
  }, [groupId]);

  useEffect(() => {
    cards.current = new Map();
    setItems(null);
    if (where === null) {
      setItems([]);
      return undefined;
    }
    let loaded = false;
    const pending: DeploymentEvent[] = [];
    const apply = (event: DeploymentEvent): void => {
      if (event.type === "DELETED" || event.deployment === null) cards.current.delete(event.id);
      else cards.current.set(event.id, event.deployment);
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
    });
    void load().then((found) => {
      if (found === null) return;
      cards.current = new Map(found.map((card) => [card.id, card]));
      pending.splice(0).forEach(apply);
      loaded = true;
      setItems([...cards.current.values()].sort(newestFirst)); // the first paint waits for no frame
    });
    return () => {
      stop();
      if (frame.current !== null) cancelAnimationFrame(frame.current);
      frame.current = null;
    };
  }, [groupId]);

  const refresh = useCallback(async (): Promise<void> => {
    const found = await load();
    if (found === null) return;
    cards.current = new Map(found.map((card) => [card.id, card]));
    publish();
  }, [load, publish]);

  return { items, error, refresh };
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
