/**
 * Create and update a deployment, with PrimeHub's field labels. On update the group, name and
 * id are shown but cannot change. The API's errors appear next to the field they name.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { messageOf, mutate, query, RequestFailed } from "../api/client";
import type { Deployment, InstanceType } from "../api/types";
import { navigate } from "../router";
import { useApp } from "../state";
import { describedBy, Field } from "../ui/Field";
import { generatedId, gigabytes } from "../ui/format";
import { KeyValueEditor, type Pair } from "../ui/KeyValueEditor";
import { Link } from "../ui/Link";
import { Errors, Notice } from "../ui/Notice";
import { FeatureNotAvailable } from "./DeploymentListPage";

// The API's rule (schema/validation.py): the Service `deploy-<id>` must fit 63 characters.
const ID_PATTERN = /^[a-z0-9][a-z0-9-]{1,54}[a-z0-9]$/;

export const SUGGESTED_IMAGES: { image: string; label: string }[] = [
  { image: "infuseai/sklearn-prepackaged:v0.1.0", label: "scikit-learn" },
  { image: "infuseai/tensorflow2-prepackaged:v0.4.0", label: "TensorFlow 2" },
  { image: "infuseai/pytorch-prepackaged:v0.2.0", label: "PyTorch" },
  { image: "infuseai/xgboost-prepackaged:v0.1.0", label: "XGBoost" },
];

interface Values {
  name: string;
  id: string;
  modelImage: string;
  modelURI: string;
  imagePullSecret: string;
  description: string;
  env: Pair[];
  metadata: Pair[];
  instanceType: string;
  replicas: string;
  privateAccess: boolean;
  updateMessage: string;
}

const EMPTY: Values = {
  name: "", id: "", modelImage: "", modelURI: "", imagePullSecret: "", description: "", env: [],
  metadata: [], instanceType: "", replicas: "1", privateAccess: false, updateMessage: "",
};

function fromDeployment(deployment: Deployment): Values {
  return {
    name: deployment.name ?? "", id: deployment.id, modelImage: deployment.modelImage ?? "",
    modelURI: deployment.modelURI ?? "", imagePullSecret: deployment.imagePullSecret ?? "",
    description: deployment.description ?? "",
    env: (deployment.env ?? []).map((item) => ({ name: item.name ?? "", value: item.value ?? "" })),
    metadata: Object.entries(deployment.metadata ?? {}).map(([name, value]) => ({ name, value: String(value) })),
    instanceType: deployment.instanceType?.name ?? deployment.instanceType?.id ?? "",
    replicas: String(deployment.replicas ?? 1), privateAccess: deployment.endpointAccessType === "private",
    updateMessage: "",
  };
}

/** The form's values as the API's input (create: everything; update: what may change). */
function payload(values: Values, creating: boolean, groupId: string | null): Record<string, unknown> {
  const optional = (text: string): string | null => (text.trim() === "" ? null : text.trim());
  const common: Record<string, unknown> = {
    modelImage: values.modelImage.trim(), modelURI: optional(values.modelURI),
    imagePullSecret: optional(values.imagePullSecret), description: optional(values.description),
    updateMessage: optional(values.updateMessage),
    env: values.env.filter((pair) => pair.name !== "" || pair.value !== ""),
    metadata: Object.fromEntries(values.metadata.filter((pair) => pair.name !== "").map((pair) => [pair.name, pair.value])),
    instanceType: values.instanceType, replicas: Number(values.replicas),
    endpointAccessType: values.privateAccess ? "private" : "public",
  };
  return creating ? { ...common, id: values.id.trim(), name: values.name.trim(), groupId } : common;
}

type Availability = "unknown" | "checking" | "available" | "taken" | "invalid";

function useIdAvailability(id: string, enabled: boolean): Availability {
  const [state, setState] = useState<Availability>("unknown");
  useEffect(() => {
    if (!enabled || id === "") {
      setState("unknown");
      return undefined;
    }
    if (!ID_PATTERN.test(id)) {
      setState("invalid");
      return undefined;
    }
    setState("checking");
    let current = true;
    const timer = setTimeout(() => {
      query<{ phDeploymentAvail: boolean }>("DeploymentIdAvailable", { id })
        .then((data) => { if (current) setState(data.phDeploymentAvail ? "available" : "taken"); },
              () => { if (current) setState("unknown"); });
    }, 250);
    return () => { current = false; clearTimeout(timer); };
  }, [id, enabled]);
  return state;
}

const AVAILABILITY_TEXT: Record<Availability, string> = {
  unknown: "", checking: "Checking…", available: "Deployment ID is available.",
  taken: "Deployment ID is already in use.",
  invalid: "Use 3 to 56 lowercase letters, digits and '-', starting and ending with a letter or digit.",
};

function instanceTypeText(type: InstanceType): string {
  const parts = [type.cpuLimit != null ? `CPU ${type.cpuLimit}` : "", type.memoryLimit != null ? `Memory ${gigabytes(type.memoryLimit)}` : "",
                 type.gpuLimit ? `GPU ${type.gpuLimit}` : ""].filter(Boolean);
  return `${type.displayName || type.name || type.id}${parts.length ? ` (${parts.join(", ")})` : ""}`;
}

export function DeploymentFormPage({ id }: { id?: string | undefined }) {
  const { group } = useApp();
  const creating = id === undefined;
  const [values, setValues] = useState<Values | null>(creating ? EMPTY : null);
  const [original, setOriginal] = useState<Deployment | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [errors, setErrors] = useState<Map<string, string>>(new Map());
  const [general, setGeneral] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const idEdited = useRef(false);
  const availability = useIdAvailability(values?.id ?? "", creating);

  useEffect(() => {
    if (creating) return;
    query<{ phDeployment: Deployment }>("Deployment", { id })
      .then((data) => { setOriginal(data.phDeployment); setValues(fromDeployment(data.phDeployment)); },
            (failure) => setLoadError(messageOf(failure)));
  }, [id]);

  const types = (group?.instanceTypes ?? []);
  useEffect(() => {
    if (creating && values !== null && values.instanceType === "" && types[0]) {
      setValues({ ...values, instanceType: types[0].name ?? types[0].id });
    }
  }, [types.length]);

  if (loadError) return <Notice kind="error" title="This deployment cannot be loaded">{loadError}</Notice>;
  if (values === null) return <p role="status">Loading…</p>;
  if (creating && group?.enabledDeployment === false) return (<><h1>Create Deployment</h1><FeatureNotAvailable /></>);

  const set = (change: Partial<Values>): void => setValues({ ...values, ...change });
  const error = (field: string): string | undefined => errors.get(field);
  const control = (field: string, hint = false) => ({
    "aria-invalid": errors.has(field) ? true : undefined,
    "aria-describedby": describedBy(field, error(field), hint),
  });
  const groupName = creating ? (group?.displayName || group?.name || group?.id || "—")
    : (original?.groupName ?? original?.groupId ?? "—");

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    const missing = new Map<string, string>();
    if (creating && values.name.trim() === "") missing.set("name", "Enter a Deployment Name.");
    if (creating && !ID_PATTERN.test(values.id.trim())) missing.set("id", AVAILABILITY_TEXT.invalid);
    if (values.modelImage.trim() === "") missing.set("modelImage", "Enter a Model Image.");
    if (values.instanceType === "") missing.set("instanceType", "Choose an Instance Type.");
    if (!/^\d+$/.test(values.replicas)) missing.set("replicas", "Replicas must be a whole number.");
    setErrors(missing);
    setGeneral([]);
    if (missing.size > 0) {
      document.getElementById(missing.keys().next().value ?? "")?.focus();
      return;
    }
    setBusy(true);
    try {
      if (creating) {
        const data = await mutate<{ createPhDeployment: { id: string } }>("CreateDeployment",
          { data: payload(values, true, group?.id ?? null) });
        navigate(`/deployments/${encodeURIComponent(data.createPhDeployment.id)}`);
      } else {
        await mutate("UpdateDeployment", { id, data: payload(values, false, null) });
        navigate(`/deployments/${encodeURIComponent(id)}`);
      }
    } catch (failure) {
      setBusy(false);
      if (failure instanceof RequestFailed) {
        const byField = failure.byField();
        const known = new Map([...byField].filter(([field]) => FIELDS.has(field)));
        setErrors(known);
        setGeneral([...failure.general(), ...[...byField].filter(([field]) => !FIELDS.has(field)).map(([, message]) => message)]);
        const first = known.keys().next().value;
        if (first !== undefined) document.getElementById(first)?.focus();
      } else {
        setGeneral([messageOf(failure)]);
      }
    }
  };

  const title = creating ? "Create Deployment" : `Update ${original?.name ?? id}`;
  return (
    <section aria-labelledby="form-title">
      <p class="breadcrumb">
        <Link href="/">Deployments</Link>
        {!creating && <> / <Link href={`/deployments/${encodeURIComponent(id)}`}>{original?.name ?? id}</Link></>}
      </p>
      <h1 id="form-title">{title}</h1>
      <form class="form" onSubmit={submit} noValidate>
        <Errors messages={general} />
        <fieldset>
          <legend>Deployment Details</legend>
          <Field id="groupId" label="Group" error={error("groupId")}>
            <input id="groupId" value={groupName} readOnly {...control("groupId")} />
          </Field>
          <Field id="name" label="Deployment Name" error={error("name")} required={creating}>
            <input id="name" value={values.name} readOnly={!creating} autoComplete="off" {...control("name")}
                   onInput={(event) => {
                     const name = event.currentTarget.value;
                     set(idEdited.current || !creating ? { name } : { name, id: generatedId(name) });
                   }} />
          </Field>
          <Field id="id" label="Deployment ID" error={error("id")} required={creating}
                 hint={creating ? <span role="status" class={`availability availability-${availability}`}>{AVAILABILITY_TEXT[availability]}</span> : undefined}>
            <input id="id" value={values.id} readOnly={!creating} autoComplete="off" {...control("id", creating)}
                   onInput={(event) => { idEdited.current = true; set({ id: event.currentTarget.value }); }} />
          </Field>
          <Field id="modelImage" label="Model Image" error={error("modelImage")} required
                 hint={<SuggestedImages onPick={(image) => set({ modelImage: image })} />}>
            <input id="modelImage" value={values.modelImage} autoComplete="off" {...control("modelImage", true)}
                   placeholder="e.g. infuseai/sklearn-prepackaged:v0.1.0"
                   onInput={(event) => set({ modelImage: event.currentTarget.value })} />
          </Field>
          <Field id="modelURI" label="Model URI" error={error("modelURI")}
                 hint="Where the trained model is stored (for a pre-packaged server image), e.g. gs://bucket/model.">
            <input id="modelURI" value={values.modelURI} autoComplete="off" {...control("modelURI", true)}
                   onInput={(event) => set({ modelURI: event.currentTarget.value })} />
          </Field>
          <Field id="imagePullSecret" label="Image Pull Secret" error={error("imagePullSecret")}>
            <input id="imagePullSecret" value={values.imagePullSecret} autoComplete="off" {...control("imagePullSecret")}
                   onInput={(event) => set({ imagePullSecret: event.currentTarget.value })} />
          </Field>
          <Field id="description" label="Descriptions" error={error("description")}>
            <textarea id="description" value={values.description} rows={3} {...control("description")}
                      onInput={(event) => set({ description: event.currentTarget.value })} />
          </Field>
        </fieldset>
        <KeyValueEditor legend="Environment Variables" pairs={values.env} error={error("env")}
                        onChange={(env) => set({ env })} />
        <KeyValueEditor legend="Metadata" pairs={values.metadata} error={error("metadata")}
                        onChange={(metadata) => set({ metadata })} />
        <fieldset>
          <legend>Resources</legend>
          <Field id="instanceType" label="Instance Type" error={error("instanceType")} required>
            <select id="instanceType" value={values.instanceType} {...control("instanceType")}
                    onChange={(event) => set({ instanceType: event.currentTarget.value })}>
              {values.instanceType === "" && <option value="">Choose an instance type</option>}
              {!types.some((type) => (type.name ?? type.id) === values.instanceType) && values.instanceType !== "" &&
                <option value={values.instanceType}>{values.instanceType}</option>}
              {types.map((type) => <option key={type.id} value={type.name ?? type.id}>{instanceTypeText(type)}</option>)}
            </select>
          </Field>
          <Field id="replicas" label="Replicas" error={error("replicas")} required>
            <input id="replicas" type="number" min={0} step={1} value={values.replicas} {...control("replicas")}
                   onInput={(event) => set({ replicas: event.currentTarget.value })} />
          </Field>
        </fieldset>
        <fieldset>
          <legend>Endpoint</legend>
          <div class={error("endpointAccessType") ? "field field-invalid" : "field"}>
            <label class="checkbox" for="endpointAccessType">
              <input id="endpointAccessType" type="checkbox" role="switch" checked={values.privateAccess}
                     {...control("endpointAccessType", true)}
                     onChange={(event) => set({ privateAccess: event.currentTarget.checked })} />
              Private Access
            </label>
            <div class="hint" id="endpointAccessType-hint">Callers need a client name and token (Clients tab).</div>
            {error("endpointAccessType") && <p class="field-error" id="endpointAccessType-error" role="alert">{error("endpointAccessType")}</p>}
          </div>
        </fieldset>
        <fieldset>
          <legend>{creating ? "Deploy" : "Update"}</legend>
          <Field id="updateMessage" label="Update Message" error={error("updateMessage")}>
            <textarea id="updateMessage" value={values.updateMessage} rows={2} {...control("updateMessage")}
                      onInput={(event) => set({ updateMessage: event.currentTarget.value })} />
          </Field>
        </fieldset>
        <div class="actions">
          <button type="button" onClick={() => history.back()}>Cancel</button>
          <button type="submit" class="primary" disabled={busy}>{creating ? "Deploy" : "Update"}</button>
        </div>
      </form>
    </section>
  );
}

const FIELDS = new Set(["groupId", "name", "id", "modelImage", "modelURI", "imagePullSecret", "description",
                        "env", "metadata", "instanceType", "replicas", "endpointAccessType", "updateMessage"]);

function SuggestedImages({ onPick }: { onPick: (image: string) => void }) {
  return (
    <div class="suggestions">
      <span id="suggested-images">Suggested pre-packaged images:</span>
      <ul aria-labelledby="suggested-images">
        {SUGGESTED_IMAGES.map((item) => (
          <li key={item.image}>
            <button type="button" class="link-button" onClick={() => onPick(item.image)}
                    aria-label={`Use ${item.image}`}>{item.image}</button>
            <span class="muted"> ({item.label})</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
