/** A deployment's status as PrimeHub names it, coloured by what it means. */
export function StatusBadge({ status }: { status: string | null }) {
  const value = status ?? "Unknown";
  return <span class={`status status-${value.toLowerCase()}`}>{value}</span>;
}
