/**
 * Admin: groups. Whether Model Deployment is enabled, the most deployments a group may run,
 * its quotas (CPU, GPU, memory), members and instance types.
 */
import { useEffect, useState } from "preact/hooks";
import { messageOf, mutate, query } from "../../api/client";
import type { AdminGroup, InstanceType } from "../../api/types";
import { useApp } from "../../state";
import { ConfirmDialog } from "../../ui/ConfirmDialog";
import { Dialog } from "../../ui/Dialog";
import { orDash } from "../../ui/format";
import { CheckboxInput, TextInput } from "../../ui/inputs";
import { Errors, Notice } from "../../ui/Notice";
import { numberOrNull, useSubmit } from "../../ui/useSubmit";

interface Values {
  name: string;
  displayName: string;
  enabledDeployment: boolean;
  maxDeploy: string;
  quotaCpu: string;
  quotaGpu: string;
  quotaMemory: string;
  members: string;
  instanceTypes: string[];
}

const FIELDS = new Set(["name", "displayName", "enabledDeployment", "maxDeploy", "quotaCpu", "quotaGpu",
                        "quotaMemory", "members", "instanceTypes"]);

const text = (value: number | null): string => (value === null || value === undefined ? "" : String(value));

function valuesOf(group: AdminGroup | null): Values {
  return {
    name: group?.name ?? "", displayName: group?.displayName ?? "",
    enabledDeployment: group?.enabledDeployment ?? true, maxDeploy: text(group?.maxDeploy ?? null),
    quotaCpu: text(group?.quotaCpu ?? null), quotaGpu: text(group?.quotaGpu ?? null),
    quotaMemory: text(group?.quotaMemory ?? null), members: (group?.members ?? []).join(", "),
    instanceTypes: (group?.instanceTypes ?? []).map((type) => type.name ?? type.id),
  };
}

export function GroupsPage() {
  const { reloadMe } = useApp();
  const [groups, setGroups] = useState<AdminGroup[] | null>(null);
  const [types, setTypes] = useState<InstanceType[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<AdminGroup | "new" | null>(null);
  const [deleting, setDeleting] = useState<AdminGroup | null>(null);
  const load = async (): Promise<void> => {
    try {
      const [groupData, typeData] = await Promise.all([
        query<{ groups: AdminGroup[] }>("Groups"), query<{ instanceTypes: InstanceType[] }>("InstanceTypes")]);
      setGroups(groupData.groups);
      setTypes(typeData.instanceTypes);
    } catch (failure) {
      setError(messageOf(failure));
    }
  };
  useEffect(() => { void load(); }, []);
  const saved = async (): Promise<void> => {
    setEditing(null);
    await Promise.all([load(), reloadMe()]);
  };
  return (
    <section aria-labelledby="groups-title">
      <div class="page-head">
        <h1 id="groups-title">Groups</h1>
        <button type="button" class="primary" onClick={() => setEditing("new")}>+ Add Group</button>
      </div>
      {error && <Notice kind="error">{error}</Notice>}
      {groups === null ? <p role="status">Loading…</p> : (
        <table class="table">
          <caption class="visually-hidden">Groups</caption>
          <thead>
            <tr>
              <th scope="col">Name</th><th scope="col">Display Name</th><th scope="col">Model Deployment</th>
              <th scope="col">Deployments</th><th scope="col">CPU Quota</th><th scope="col">GPU Quota</th>
              <th scope="col">Memory Quota</th><th scope="col">Instance Types</th><th scope="col"><span class="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {groups.map((group) => (
              <tr key={group.id}>
                <td>{group.name}</td>
                <td>{orDash(group.displayName)}</td>
                <td>{group.enabledDeployment ? "Enabled" : "Disabled"}</td>
                <td>{group.deploymentsUsage ?? 0} of {group.maxDeploy ?? "unlimited"}</td>
                <td>{orDash(group.quotaCpu)}</td>
                <td>{orDash(group.quotaGpu)}</td>
                <td>{group.quotaMemory == null ? "—" : `${group.quotaMemory} GB`}</td>
                <td>{(group.instanceTypes ?? []).map((type) => type.name).join(", ") || "—"}</td>
                <td><div class="row-actions">
                  <button type="button" aria-label={`Edit group ${group.name}`} onClick={() => setEditing(group)}>Edit</button>
                  <button type="button" class="danger" aria-label={`Delete group ${group.name}`} onClick={() => setDeleting(group)}>Delete</button>
                </div></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {editing !== null && (
        <GroupDialog group={editing === "new" ? null : editing} types={types} onSaved={saved} onClose={() => setEditing(null)} />
      )}
      {deleting !== null && (
        <ConfirmDialog title="Delete group" confirmLabel="Delete" typeToConfirm={deleting.name ?? deleting.id}
                       message={`Delete the group ${deleting.name}? Its settings go; its deployments must be deleted first.`}
                       onConfirm={async () => { await mutate("DeleteGroup", { id: deleting.id }); await saved(); }}
                       onClose={() => setDeleting(null)} />
      )}
    </section>
  );
}

function GroupDialog({ group, types, onSaved, onClose }: {
  group: AdminGroup | null; types: InstanceType[]; onSaved: () => Promise<void>; onClose: () => void;
}) {
  const [values, setValues] = useState<Values>(valuesOf(group));
  const submit = useSubmit();
  const set = (change: Partial<Values>): void => setValues({ ...values, ...change });
  const save = async (event: Event): Promise<void> => {
    event.preventDefault();
    const data = {
      displayName: values.displayName.trim() || null, enabledDeployment: values.enabledDeployment,
      maxDeploy: numberOrNull(values.maxDeploy), quotaCpu: numberOrNull(values.quotaCpu),
      quotaGpu: numberOrNull(values.quotaGpu), quotaMemory: numberOrNull(values.quotaMemory),
      members: values.members.split(",").map((member) => member.trim()).filter(Boolean),
      instanceTypes: values.instanceTypes,
    };
    const ok = await submit.run(async () => {
      if (group === null) await mutate("CreateGroup", { data: { ...data, name: values.name.trim() } });
      else await mutate("UpdateGroup", { id: group.id, data });
    }, FIELDS);
    if (ok) await onSaved();
  };
  const error = (field: string): string | undefined => submit.errors.get(field);
  return (
    <Dialog title={group === null ? "Add Group" : `Edit group ${group.name}`} onClose={onClose}>
      <form class="form" onSubmit={save} noValidate>
        <Errors messages={submit.general} />
        <TextInput id="name" label="Name" value={values.name} readOnly={group !== null} error={error("name")}
                   onValue={(name) => set({ name })} />
        <TextInput id="displayName" label="Display Name" value={values.displayName} error={error("displayName")}
                   onValue={(displayName) => set({ displayName })} />
        <CheckboxInput id="enabledDeployment" label="Enable Model Deployment" checked={values.enabledDeployment}
                       error={error("enabledDeployment")} onValue={(enabledDeployment) => set({ enabledDeployment })} />
        <TextInput id="maxDeploy" label="Maximum Deployments" type="number" value={values.maxDeploy} error={error("maxDeploy")}
                   hint="Blank: no limit." onValue={(maxDeploy) => set({ maxDeploy })} />
        <div class="row">
          <TextInput id="quotaCpu" label="CPU Quota" type="number" step="0.5" value={values.quotaCpu} error={error("quotaCpu")}
                     onValue={(quotaCpu) => set({ quotaCpu })} />
          <TextInput id="quotaGpu" label="GPU Quota" type="number" value={values.quotaGpu} error={error("quotaGpu")}
                     onValue={(quotaGpu) => set({ quotaGpu })} />
          <TextInput id="quotaMemory" label="Memory Quota (GB)" type="number" step="0.5" value={values.quotaMemory}
                     error={error("quotaMemory")} onValue={(quotaMemory) => set({ quotaMemory })} />
        </div>
        <TextInput id="members" label="Members" value={values.members} error={error("members")}
                   hint="User names, separated by commas." onValue={(members) => set({ members })} />
        <fieldset class={error("instanceTypes") ? "field-invalid" : ""}>
          <legend>Instance Types</legend>
          {types.map((type) => {
            const name = type.name ?? type.id;
            return (
              <CheckboxInput key={name} id={`type-${name}`} label={`${type.displayName || name} (${name})`}
                             checked={values.instanceTypes.includes(name)}
                             onValue={(on) => set({ instanceTypes: on ? [...values.instanceTypes, name] : values.instanceTypes.filter((item) => item !== name) })} />
            );
          })}
          {error("instanceTypes") && <p class="field-error" role="alert">{error("instanceTypes")}</p>}
        </fieldset>
        <div class="actions">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" class="primary" disabled={submit.busy}>Save</button>
        </div>
      </form>
    </Dialog>
  );
}
