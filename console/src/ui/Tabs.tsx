import type { ComponentChildren } from "preact";
import { navigate } from "../router";

export interface Tab {
  id: string;
  label: string;
  href: string;
}

interface Props {
  label: string;
  tabs: Tab[];
  current: string;
  children: ComponentChildren;
}

/**
 * Tabs whose selection is the URL (so a tab can be linked and reloaded). Keyboard: arrow keys
 * move between tabs, Home and End jump, as the ARIA tabs pattern asks.
 */
export function Tabs({ label, tabs, current, children }: Props) {
  const onKey = (event: KeyboardEvent): void => {
    const at = tabs.findIndex((tab) => tab.id === current);
    const moves: Record<string, number> = {
      ArrowRight: (at + 1) % tabs.length, ArrowLeft: (at - 1 + tabs.length) % tabs.length,
      Home: 0, End: tabs.length - 1,
    };
    const next = moves[event.key];
    if (next === undefined) return;
    event.preventDefault();
    const tab = tabs[next];
    if (tab === undefined) return;
    navigate(tab.href, { replace: true });
    requestAnimationFrame(() => document.getElementById(`tab-${tab.id}`)?.focus());
  };
  return (
    <div class="tabs">
      <div role="tablist" aria-label={label} onKeyDown={onKey}>
        {tabs.map((tab) => (
          <a key={tab.id} id={`tab-${tab.id}`} role="tab" href={tab.href}
             aria-selected={tab.id === current}
             aria-controls={tab.id === current ? `panel-${tab.id}` : undefined}
             tabIndex={tab.id === current ? 0 : -1}
             onClick={(event) => { event.preventDefault(); navigate(tab.href, { replace: true }); }}>
            {tab.label}
          </a>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${current}`} aria-labelledby={`tab-${current}`} tabIndex={0}>
        {children}
      </div>
    </div>
  );
}
