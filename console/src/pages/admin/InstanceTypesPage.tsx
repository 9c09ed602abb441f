/** Admin: instance types, the resource sizes a deployment can ask for (PrimeHub's shape). */
import { useEffect, useState } from "preact/hooks";
import { messageOf, mutate, query } from "../../api/client";
import type { InstanceType } from "../../api/types";
import { ConfirmDialog } from "../../ui/ConfirmDialog";
import { Dialog } from "../../ui/Dialog";
import { orDash } from "../../ui/format";
import { TextInput } from "../../ui/inputs";
import { Errors, Notice } from "../../ui/Notice";
import { numberOrNull, useSubmit } from "../../ui/useSubmit";

const NUMBERS = ["cpuLimit", "memoryLimit", "gpuLimit", "cpuRequest", "memoryRequest"] as const;
type NumberKey = (typeof NUMBERS)[number];
const LABELS: Record<NumberKey, string> = {
  cpuLimit: "CPU Limit", memoryLimit: "Memory Limit (GB)", gpuLimit: "GPU Limit",
  cpuRequest: "CPU Request", memoryRequest: "Memory Request (GB)",
};
const FIELDS = new Set<string>(["name", "displayName", "description", ...NUMBERS]);

export function InstanceTypesPage() {
  const [types, setTypes] = useState<InstanceType[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<InstanceType | "new" | null>(null);
  const [deleting, setDeleting] = useState<InstanceType | null>(null);
  const load = async (): Promise<void> => {
    try {
      setTypes((await query<{ instanceTypes: InstanceType[] }>("InstanceTypes")).instanceTypes);
    } catch (failure) {
      setError(messageOf(failure));
    }
  };
  useEffect(() => { void load(); }, []);
  return (
    <section aria-labelledby="types-title">
      <div class="page-head">
        <h1 id="types-title">Instance Types</h1>
        <button type="button" class="primary" onClick={() => setEditing("new")}>+ Add Instance Type</button>
      </div>
      {error && <Notice kind="error">{error}</Notice>}
      {types === null ? <p role="status">Loading…</p> : (
        <table class="table">
          <caption class="visually-hidden">Instance Types</caption>
          <thead>
            <tr><th scope="col">Name</th><th scope="col">Display Name</th><th scope="col">Description</th>
              {NUMBERS.map((key) => <th scope="col" key={key}>{LABELS[key]}</th>)}
              <th scope="col"><span class="visually-hidden">Actions</span></th></tr>
          </thead>
          <tbody>
            {types.map((type) => (
              <tr key={type.id}>
                <td>{type.name}</td><td>{orDash(type.displayName)}</td><td>{orDash(type.description)}</td>
                {NUMBERS.map((key) => <td key={key}>{orDash(type[key])}</td>)}
                <td><div class="row-actions">
                  <button type="button" aria-label={`Edit instance type ${type.name}`} onClick={() => setEditing(type)}>Edit</button>
                  <button type="button" class="danger" aria-label={`Delete instance type ${type.name}`} onClick={() => setDeleting(type)}>Delete</button>
                </div></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {editing !== null && (
        <TypeDialog type={editing === "new" ? null : editing} onClose={() => setEditing(null)}
                    onSaved={async () => { setEditing(null); await load(); }} />
      )}
      {deleting !== null && (
        <ConfirmDialog title="Delete instance type" confirmLabel="Delete"
                       message={`Delete the instance type ${deleting.name}? Deployments that use it keep running until they are updated.`}
                       onConfirm={async () => { await mutate("DeleteInstanceType", { id: deleting.id }); await load(); }}
                       onClose={() => setDeleting(null)} />
      )}
    </section>
  );
}

function TypeDialog({ type, onSaved, onClose }: { type: InstanceType | null; onSaved: () => Promise<void>; onClose: () => void }) {
  const initial: Record<string, string> = { name: type?.name ?? "", displayName: type?.displayName ?? "", description: type?.description ?? "" };
  for (const key of NUMBERS) initial[key] = type?.[key] == null ? "" : String(type[key]);
  const [values, setValues] = useState(initial);
  const submit = useSubmit();
  const set = (key: string, value: string): void => setValues({ ...values, [key]: value });
  const save = async (event: Event): Promise<void> => {
    event.preventDefault();
    const data: Record<string, unknown> = {
      displayName: values["displayName"]?.trim() || null, description: values["description"]?.trim() || null,
    };
    for (const key of NUMBERS) data[key] = numberOrNull(values[key] ?? "");
    const ok = await submit.run(async () => {
      if (type === null) await mutate("CreateInstanceType", { data: { ...data, name: values["name"]?.trim() } });
      else await mutate("UpdateInstanceType", { id: type.id, data });
    }, FIELDS);
    if (ok) await onSaved();
  };
  return (
    <Dialog title={type === null ? "Add Instance Type" : `Edit instance type ${type.name}`} onClose={onClose}>
      <form class="form" onSubmit={save} noValidate>
        <Errors messages={submit.general} />
        <TextInput id="name" label="Name" value={values["name"] ?? ""} readOnly={type !== null}
                   error={submit.errors.get("name")} onValue={(value) => set("name", value)} />
        <TextInput id="displayName" label="Display Name" value={values["displayName"] ?? ""}
                   error={submit.errors.get("displayName")} onValue={(value) => set("displayName", value)} />
        <TextInput id="description" label="Description" value={values["description"] ?? ""}
                   error={submit.errors.get("description")} onValue={(value) => set("description", value)} />
        <div class="row">
          {NUMBERS.map((key) => (
            <TextInput key={key} id={key} label={LABELS[key]} type="number" step={key === "gpuLimit" ? "1" : "0.1"}
                       value={values[key] ?? ""} error={submit.errors.get(key)} onValue={(value) => set(key, value)} />
          ))}
        </div>
        <div class="actions">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" class="primary" disabled={submit.busy}>Save</button>
        </div>
      </form>
    </Dialog>
  );
}
