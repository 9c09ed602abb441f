import type { EnvVar } from "../api/types";
import { SecretValue } from "./SecretValue";

/** Environment variables with each value hidden until its eye button is pressed. */
export function EnvTable({ env, caption = "Environment Variables" }: { env: EnvVar[] | null; caption?: string }) {
  const rows = env ?? [];
  return (
    <table class="table">
      <caption>{caption}</caption>
      <thead><tr><th scope="col">Name</th><th scope="col">Value</th></tr></thead>
      <tbody>
        {rows.length === 0 && <tr><td colSpan={2} class="muted">None</td></tr>}
        {rows.map((item, index) => (
          <tr key={`${item.name}-${index}`}>
            <td><code>{item.name}</code></td>
            <td><SecretValue name={item.name ?? ""} value={item.value ?? ""} /></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Metadata, a plain name/value table. */
export function MetadataTable({ metadata }: { metadata: Record<string, string> | null }) {
  const rows = Object.entries(metadata ?? {});
  return (
    <table class="table">
      <caption>Metadata</caption>
      <thead><tr><th scope="col">Name</th><th scope="col">Value</th></tr></thead>
      <tbody>
        {rows.length === 0 && <tr><td colSpan={2} class="muted">None</td></tr>}
        {rows.map(([name, value]) => <tr key={name}><td><code>{name}</code></td><td>{String(value)}</td></tr>)}
      </tbody>
    </table>
  );
}
