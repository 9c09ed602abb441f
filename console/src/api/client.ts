/**
 * Talking to the API: GraphQL over POST (with the session cookie and the CSRF header) and
 * subscriptions over one lazily opened graphql-transport-ws connection. Expected failures come
 * back as a {@link RequestFailed} whose errors keep the API's code and field, so a form can put
 * each message next to the field it names.
 */
import { createClient, type Client } from "graphql-ws/client";
import { documentFor, type MutationName, type QueryName, type SubscriptionName } from "./operations";

export const CSRF_HEADER = "X-Model-Gateway-CSRF";

export interface ErrorItem {
  message: string;
  extensions?: { code?: string; field?: string };
}

export class RequestFailed extends Error {
  readonly errors: ErrorItem[];

  constructor(errors: ErrorItem[]) {
    super(errors.map((error) => error.message).join("; ") || "the request failed");
    this.errors = errors;
  }

  get code(): string | undefined {
    return this.errors[0]?.extensions?.code;
  }

  /** Messages keyed by the top-level input field they name (`env[2].name` → `env`). */
  byField(): Map<string, string> {
    const found = new Map<string, string>();
    for (const error of this.errors) {
      const field = error.extensions?.field;
      if (field === undefined) continue;
      const key = field.split(/[.[]/)[0] ?? field;
      // "modelImage: must be ..." reads as "must be ..." beside the Model Image field
      const message = error.message.startsWith(`${key}: `) ? error.message.slice(key.length + 2) : error.message;
      found.set(key, [found.get(key), message].filter(Boolean).join("; "));
    }
    return found;
  }

  /** Messages that name no field. */
  general(): string[] {
    return this.errors.filter((error) => error.extensions?.field === undefined)
      .map((error) => error.message);
  }
}

type Listener = () => void;
const signedOutListeners = new Set<Listener>();

/** Called when the API says the session is gone (the page then shows the sign-in form). */
export function onSignedOut(listener: Listener): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

function signedOut(): void {
  signedOutListeners.forEach((listener) => listener());
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

async function post(name: QueryName | MutationName,
                    variables: Record<string, unknown>): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json",
                 [CSRF_HEADER]: "1" },
      body: JSON.stringify({ query: documentFor(name), variables, operationName: name }),
    });
  } catch {
    throw new RequestFailed([{ message: "The API cannot be reached. Check your connection and try again." }]);
  }
  if (response.status === 401) {
    signedOut();
    throw new RequestFailed([{ message: "You are signed out.", extensions: { code: "NOT_AUTH" } }]);
  }
  let body: { data?: unknown; errors?: ErrorItem[] };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new RequestFailed([{ message: `The API answered ${response.status} without a GraphQL result.` }]);
  }
  if (body.errors !== undefined && body.errors.length > 0) throw new RequestFailed(body.errors);
  if (!response.ok) throw new RequestFailed([{ message: `The API answered ${response.status}.` }]);
  return body.data;
}

const EARLY_FOR_MS = 5000;
const early = new Map<string, { started: number; result: Promise<unknown> }>();

/** A query answered before the page asked: by the server, inside the page (see main.tsx). */
export interface FirstAnswer {
  name: QueryName;
  variables: Record<string, unknown>;
  data: unknown;
}

const firstAnswers = new Map<string, unknown>();

/** Take the server's answers as the results of the page's first queries. */
export function seedAnswers(answers: FirstAnswer[]): void {
  for (const answer of answers) firstAnswers.set(answer.name + JSON.stringify(answer.variables), answer.data);
}

/**
 * The server's answer to a query, if the page came with one (taken: asked again, the query
 * goes to the API). Synchronous, so the first render can draw it at once.
 */
export function takeFirst<T>(name: QueryName, variables: Record<string, unknown> = {}): T | undefined {
  const key = name + JSON.stringify(variables);
  const found = firstAnswers.get(key);
  firstAnswers.delete(key);
  return found as T | undefined;
}

/**
 * Start a query before the page asks for it (at start-up, in parallel with the session
 * check), so the first page does not wait for one request after another. The next
 * {@link query} with the same name and variables within a few seconds takes its result.
 */
export function prefetch(name: QueryName, variables: Record<string, unknown> = {}): void {
  const result = post(name, variables);
  result.catch(() => undefined); // whoever takes it sees the failure; unclaimed, it is dropped
  early.set(name + JSON.stringify(variables), { started: performance.now(), result });
}

/** Run a query; the result is the `data` object. */
export function query<T>(name: QueryName, variables: Record<string, unknown> = {}): Promise<T> {
  const first = takeFirst<T>(name, variables);
  if (first !== undefined) return Promise.resolve(first);
  const key = name + JSON.stringify(variables);
  const started = early.get(key);
  early.delete(key);
  if (started !== undefined && performance.now() - started.started < EARLY_FOR_MS) {
    return started.result as Promise<T>;
  }
  return post(name, variables) as Promise<T>;
}

/** Run a mutation; the result is the `data` object. */
export function mutate<T>(name: MutationName, variables: Record<string, unknown> = {}): Promise<T> {
  return post(name, variables) as Promise<T>;
}

let socket: Client | null = null;
const connectedListeners = new Set<Listener>();

function connection(): Client {
  if (socket === null) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    socket = createClient({
      url: `${scheme}//${location.host}/graphql`,
      lazy: true,
      lazyCloseTimeout: 3000,
      retryAttempts: Number.MAX_SAFE_INTEGER,
      shouldRetry: () => true,
      on: {
        // The client sends waiting subscriptions right after this event, in the same task:
        // a listener runs one task later, once they are on the wire.
        connected: () => {
          setTimeout(() => connectedListeners.forEach((listener) => listener()), 0);
        },
      },
    });
  }
  return socket;
}

export interface Subscription<T> {
  next(data: T): void;
  error?(failure: RequestFailed): void;
  /**
   * Called when the subscription has been sent over a newly opened (or reopened) connection:
   * changes from then on arrive as events; anything read before may have missed some. Not
   * called when the connection was already open (the subscription is sent at once).
   */
  live?(): void;
}

/** Subscribe to one named subscription; returns the function that ends it. */
export function subscribe<T>(name: SubscriptionName, variables: Record<string, unknown>,
                             sink: Subscription<T>): () => void {
  // Over an open connection the subscription is on the wire at once, before anything the
  // caller reads next; otherwise `live` says when it is.
  const live = sink.live;
  if (live !== undefined) connectedListeners.add(live);
  const stop = connection().subscribe<T>(
    { query: documentFor(name), variables, operationName: name },
    {
      next: (result) => {
        if (result.errors !== undefined && result.errors.length > 0) {
          sink.error?.(new RequestFailed(result.errors as ErrorItem[]));
        } else if (result.data !== undefined && result.data !== null) {
          sink.next(result.data);
        }
      },
      error: (failure) => {
        const errors = Array.isArray(failure) ? (failure as ErrorItem[])
          : [{ message: "The live connection to the API was lost." }];
        sink.error?.(new RequestFailed(errors));
      },
      complete: () => undefined,
    },
  );
  return () => {
    if (live !== undefined) connectedListeners.delete(live);
    stop();
  };
}
