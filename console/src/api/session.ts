/**
 * Signing in and out. The API token a user pastes is exchanged for an HttpOnly session cookie
 * and never kept by the page; every call that changes something carries the CSRF header.
 */
import { CSRF_HEADER } from "./client";

export interface Session {
  signedIn?: boolean;
  username: string;
  admin: boolean;
  groups: string[];
  method: "session" | "sso" | "bearer";
}

const JSON_HEADERS = { "Content-Type": "application/json", [CSRF_HEADER]: "1" };

let first: Session | null = null;

/** The session the server put into the page (see main.tsx). */
export function seedSession(session: Session): void {
  first = session;
}

/** The session the server put into the page, taken (the next check asks the API). */
export function takeFirstSession(): Session | null {
  const session = first;
  first = null;
  return session;
}

/** The current session, or null when signed out. */
export async function currentSession(): Promise<Session | null> {
  const seeded = takeFirstSession();
  if (seeded !== null) return seeded;
  const response = await fetch("/auth/session", { credentials: "same-origin" });
  if (response.status === 401) return null;
  if (!response.ok) throw new Error(`The API answered ${response.status} for the session.`);
  const session = (await response.json()) as Session;
  return session.signedIn === false ? null : session;
}

/** Exchange an API token for a session; throws with the API's reason when refused. */
export async function signIn(token: string): Promise<Session> {
  const response = await fetch("/auth/session", {
    method: "POST", credentials: "same-origin", headers: JSON_HEADERS,
    body: JSON.stringify({ token }),
  });
  const body = (await response.json().catch(() => ({}))) as Partial<Session> & { error?: string };
  if (!response.ok) throw new Error(body.error ?? `The API answered ${response.status}.`);
  return body as Session;
}

export async function signOut(): Promise<void> {
  await fetch("/auth/session", { method: "DELETE", credentials: "same-origin", headers: JSON_HEADERS });
}
