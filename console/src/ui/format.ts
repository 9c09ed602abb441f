/** How the console writes times, sizes and names: times in UTC, always with the zone. */

export function utc(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

export function orDash(value: string | number | null | undefined): string {
  return value === null || value === undefined || value === "" ? "—" : String(value);
}

export function gigabytes(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : `${Number(value.toFixed(2))} GB`;
}

/** PrimeHub's generated id: the name lowercased, non-word runs as "-", and 5 random chars. */
export function generatedId(name: string): string {
  const base = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 56);
  const letters = "abcdefghijklmnopqrstuvwxyz0123456789";
  const random = Array.from(crypto.getRandomValues(new Uint8Array(5)),
                            (byte) => letters[byte % letters.length]).join("");
  return base ? `${base}-${random}` : "";
}
