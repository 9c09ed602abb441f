/**
 * The console's frame: the session check, the sign-in page when there is none, and for a
 * signed-in user the header (navigation, `Group:` switcher, sign-out) around the page the
 * path names.
 */
import { useCallback, useEffect, useMemo, useState } from "preact/hooks";
import { messageOf, onSignedOut, query, takeFirst } from "./api/client";
import { currentSession, signOut, takeFirstSession, type Session } from "./api/session";
import type { Me } from "./api/types";
import { ApiTokensPage } from "./pages/admin/ApiTokensPage";
import { AuditPage } from "./pages/admin/AuditPage";
import { GroupsPage } from "./pages/admin/GroupsPage";
import { InstanceTypesPage } from "./pages/admin/InstanceTypesPage";
import { DeploymentDetailPage } from "./pages/DeploymentDetailPage";
import { DeploymentFormPage } from "./pages/DeploymentFormPage";
import { DeploymentListPage } from "./pages/DeploymentListPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { SignInPage } from "./pages/SignInPage";
import { match, navigate, usePath } from "./router";
import { AppContext, rememberedGroup, rememberGroup, type AppState } from "./state";
import { Link } from "./ui/Link";
import { Notice } from "./ui/Notice";

type Phase =
  | { kind: "loading" }
  | { kind: "signed-out" }
  | { kind: "failed"; message: string }
  | { kind: "ready"; session: Session; me: Me };

/** Ready at once when the page came with the session and `me` inside (see main.tsx). */
function firstPhase(): Phase {
  const me = takeFirst<{ me: Me }>("Me");
  const session = me === undefined ? null : takeFirstSession();
  return session !== null && me !== undefined ? { kind: "ready", session, me: me.me } : { kind: "loading" };
}

export function App() {
  const [phase, setPhase] = useState<Phase>(firstPhase);
  const load = useCallback(async (): Promise<void> => {
    try {
      // Both at once: a signed-out browser's `me` fails, and is then ignored.
      const [session, answer] = await Promise.all([
        currentSession(), query<{ me: Me }>("Me").catch((failure: unknown) => failure)]);
      if (session === null) {
        setPhase({ kind: "signed-out" });
        return;
      }
      if (answer instanceof Error) throw answer;
      setPhase({ kind: "ready", session, me: (answer as { me: Me }).me });
    } catch (failure) {
      setPhase({ kind: "failed", message: messageOf(failure) });
    }
  }, []);
  useEffect(() => {
    if (phase.kind === "loading") void load();
    return onSignedOut(() => setPhase({ kind: "signed-out" }));
  }, [load]);

  if (phase.kind === "loading") return <p class="loading" role="status">Loading…</p>;
  if (phase.kind === "failed") {
    return <main class="page"><Notice kind="error" title="The console cannot start">{phase.message}</Notice></main>;
  }
  if (phase.kind === "signed-out") return <SignInPage onSignedIn={load} />;
  return <SignedIn session={phase.session} me={phase.me} reload={load} />;
}

function SignedIn({ session, me, reload }: { session: Session; me: Me; reload: () => Promise<void> }) {
  const path = usePath();
  const groups = me.effectiveGroups ?? [];
  const [groupId, setGroupId] = useState<string | null>(() => {
    const remembered = rememberedGroup();
    return groups.some((group) => group.id === remembered) ? remembered : groups[0]?.id ?? null;
  });
  const group = groups.find((candidate) => candidate.id === groupId) ?? groups[0] ?? null;
  const state = useMemo<AppState>(() => ({
    me, group,
    selectGroup: (id) => { rememberGroup(id); setGroupId(id); },
    reloadMe: reload,
  }), [me, group, reload]);

  useEffect(() => {
    if (path === "/sign-in") navigate("/", { replace: true });
  }, [path]);

  const leave = async (): Promise<void> => {
    await signOut();
    location.assign("/");
  };
  const admin = me.isAdmin === true;
  const nav = [
    { href: "/", label: "Deployments", active: !path.startsWith("/admin") },
    ...(admin ? [
      { href: "/admin/groups", label: "Groups", active: path.startsWith("/admin/groups") },
      { href: "/admin/instance-types", label: "Instance Types", active: path.startsWith("/admin/instance-types") },
      { href: "/admin/api-tokens", label: "API Tokens", active: path.startsWith("/admin/api-tokens") },
      { href: "/admin/audit", label: "Audit", active: path.startsWith("/admin/audit") },
    ] : []),
  ];
  return (
    <AppContext.Provider value={state}>
      <a class="skip" href="#main">Skip to content</a>
      <header class="topbar">
        <Link href="/" class="brand">model-gateway</Link>
        <nav aria-label="Main">
          <ul>
            {nav.map((item) => (
              <li key={item.href}>
                <Link href={item.href} aria-current={item.active ? "page" : undefined}>{item.label}</Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="topbar-right">
          <label for="group-switcher">Group:</label>
          <select id="group-switcher" value={group?.id ?? ""}
                  onChange={(event) => state.selectGroup(event.currentTarget.value)}>
            {groups.length === 0 && <option value="">(no group)</option>}
            {groups.map((candidate) => (
              <option key={candidate.id} value={candidate.id}>
                {candidate.displayName || candidate.name || candidate.id}
              </option>
            ))}
          </select>
          <span class="user" title={`signed in by ${session.method}`}>{me.username}</span>
          {session.method !== "sso" && <button type="button" onClick={leave}>Sign out</button>}
        </div>
      </header>
      <main id="main" class="page" tabIndex={-1}>
        <Page path={path} admin={admin} />
      </main>
    </AppContext.Provider>
  );
}

function Page({ path, admin }: { path: string; admin: boolean }) {
  if (match("/", path)) return <DeploymentListPage />;
  if (match("/create", path)) return <DeploymentFormPage />;
  const edit = match("/deployments/:id/edit", path);
  if (edit) return <DeploymentFormPage id={edit["id"]} />;
  const tabbed = match("/deployments/:id/:tab", path);
  if (tabbed) return <DeploymentDetailPage id={tabbed["id"] ?? ""} tab={tabbed["tab"] ?? ""} />;
  const detail = match("/deployments/:id", path);
  if (detail) return <DeploymentDetailPage id={detail["id"] ?? ""} tab="information" />;
  if (admin && match("/admin/groups", path)) return <GroupsPage />;
  if (admin && match("/admin/instance-types", path)) return <InstanceTypesPage />;
  if (admin && match("/admin/api-tokens", path)) return <ApiTokensPage />;
  if (admin && match("/admin/audit", path)) return <AuditPage />;
  return <NotFoundPage />;
}
