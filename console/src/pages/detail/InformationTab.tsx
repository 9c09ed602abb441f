/**
 * The Information tab: PrimeHub's table of facts, the predictors with their share of the
 * traffic (when there are several), the "Run an Example" curl, metadata and env.
 */
import type { Deployment, Predictor } from "../../api/types";
import { CopyButton } from "../../ui/CopyButton";
import { EnvTable, MetadataTable } from "../../ui/EnvTable";
import { orDash, utc } from "../../ui/format";
import { StatusBadge } from "../../ui/StatusBadge";

/** PrimeHub's sample request; `${YOUR_DATA}` is for the user to replace. */
export function curlSample(deployment: Deployment): string {
  const endpoint = deployment.endpoint ?? `<endpoint>/deployment/${deployment.id}/api/v1.0/predictions`;
  const lines = ["curl -X POST \\"];
  if (deployment.endpointAccessType === "private") lines.push("    -u <client-name>:<client-token> \\");
  lines.push("    -d '{\"data\":{\"ndarray\":${YOUR_DATA}}}' \\",
             "    -H \"Content-Type: application/json\" \\",
             `    ${endpoint}`);
  return lines.join("\n");
}

export function InformationTab({ deployment }: { deployment: Deployment }) {
  const type = deployment.instanceType;
  const facts: [string, preact.ComponentChildren][] = [
    ["Status", <StatusBadge status={deployment.status} />],
    ["Message", orDash(deployment.message)],
    ["Endpoint", deployment.endpoint ? <code>{deployment.endpoint}</code> : "—"],
    ["Creation Time", utc(deployment.creationTime)],
    ["Last Updated", `${utc(deployment.lastUpdatedTime)} by ${orDash(deployment.userName)}`],
    ["Model Image", <code>{orDash(deployment.modelImage)}</code>],
    ["Image Pull Secret", orDash(deployment.imagePullSecret)],
    ["Model URI", orDash(deployment.modelURI)],
    ["Description", orDash(deployment.description)],
    ["Instance Type", type ? `${type.displayName || type.name || type.id} (${type.name ?? type.id})` : "—"],
    ["Replicas", `${deployment.availableReplicas ?? 0}/${deployment.replicas ?? 0} available`],
    ["Access Type", deployment.endpointAccessType === "private" ? "Private" : "Public"],
    ["Group", orDash(deployment.groupName ?? deployment.groupId)],
  ];
  const sample = curlSample(deployment);
  return (
    <div class="information">
      <dl class="facts facts-wide">
        {facts.map(([label, value]) => [<dt key={`${label}-t`}>{label}</dt>, <dd key={`${label}-d`}>{value}</dd>])}
      </dl>
      <Predictors predictors={deployment.predictors ?? []} />
      <h2>Run an Example</h2>
      <p>Replace <code>{"${YOUR_DATA}"}</code> with real data{deployment.endpointAccessType === "private"
        ? <>, and <code>{"<client-name>:<client-token>"}</code> with a client from the Clients tab</> : null}.</p>
      <div class="sample">
        <pre aria-label="curl sample"><code>{sample}</code></pre>
        <CopyButton text={sample} />
      </div>
      <MetadataTable metadata={deployment.metadata} />
      <EnvTable env={deployment.env} />
    </div>
  );
}

/** The versions of the model and their shares, once there is more than one (a single
 * predictor is the deployment itself, already in the facts above, at 100%). */
function Predictors({ predictors }: { predictors: Predictor[] }) {
  if (predictors.length < 2) return null;
  return (
    <table class="table">
      <caption>Predictors</caption>
      <thead>
        <tr><th scope="col">Name</th><th scope="col">Traffic</th><th scope="col">Status</th><th scope="col">Model Image</th>
          <th scope="col">Instance Type</th><th scope="col">Replicas</th><th scope="col">Endpoint</th></tr>
      </thead>
      <tbody>
        {predictors.map((predictor) => (
          <tr key={predictor.name}>
            <td>{predictor.name}{predictor.primary ? " (primary)" : ""}</td>
            <td>{predictor.trafficPercent}%</td>
            <td><StatusBadge status={predictor.status} /></td>
            <td><code>{orDash(predictor.modelImage)}</code></td>
            <td>{orDash(predictor.instanceType)}</td>
            <td>{`${predictor.availableReplicas ?? 0}/${predictor.replicas ?? 0} available`}</td>
            <td>{predictor.endpoint ? <code>{predictor.endpoint}</code> : "—"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
