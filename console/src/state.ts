/**
 * What every page knows: who is signed in (`me`, with their groups) and which group is
 * selected. The group choice is remembered in localStorage (a group id, never a secret).
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

const GROUP_KEY = "model-gateway.group";

export function rememberedGroup(): string | null {
  try {
    return localStorage.getItem(GROUP_KEY);
  } catch {
    return null;
  }
}

export function rememberGroup(id: string): void {
  try {
    localStorage.setItem(GROUP_KEY, id);
  } catch {
    // storage refused (private mode): the choice lasts for this page only
  }
}
