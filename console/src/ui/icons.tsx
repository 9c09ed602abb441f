/** The few icons the console draws, inline so nothing loads from elsewhere. */

export function EyeIcon({ open }: { open: boolean }) {
  return (
    <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false">
      <path fill="none" stroke="currentColor" stroke-width="2"
            d="M1 12s4-7 11-7 11 7 11 7-4 7-11 7S1 12 1 12z" />
      <circle cx="12" cy="12" r="3" fill="none" stroke="currentColor" stroke-width="2" />
      {!open && <path stroke="currentColor" stroke-width="2" d="M3 3l18 18" />}
    </svg>
  );
}
