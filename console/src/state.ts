/**
 * What every page knows: who is signed in (`me`, with their groups) and which group is
 * selected. The group choice is remembered in the `mg_group` cookie (a group id, never a
 * secret), so the server can put that group's deployments into the first page it serves.
 */
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Group, Me } from "./api/types";

export interface AppState {
  me: Me;
  group: Group | null;
  selectGroup: (id: string) => void;
  reloadMe: () => Promise<void>;
}

export const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
  const state = useContext(AppContext);
  if (state === null) throw new Error("useApp outside the signed-in console");
  return state;
}

const GROUP_COOKIE = "mg_group";
const YEAR_S = 365 * 24 * 3600;

export function rememberedGroup(): string | null {
  for (const part of document.cookie.split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === GROUP_COOKIE) return decodeURIComponent(value.join("="));
  }
  return null;
}

export function rememberGroup(id: string): void {
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `${GROUP_COOKIE}=${encodeURIComponent(id)}; Path=/; Max-Age=${YEAR_S}; SameSite=Strict${secure}`;
}
