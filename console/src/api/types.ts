/** The shapes the console reads from the API (the selections in operations.graphql). */

export interface InstanceTypeRef {
  id: string;
  name: string | null;
  displayName: string | null;
}

export interface InstanceType extends InstanceTypeRef {
  description: string | null;
  cpuLimit: number | null;
  memoryLimit: number | null;
  gpuLimit: number | null;
  cpuRequest?: number | null;
  memoryRequest?: number | null;
}

export interface EnvVar {
  name: string | null;
  value: string | null;
}

export interface DeploymentCard {
  id: string;
  name: string | null;
  status: string | null;
  endpoint: string | null;
  groupId: string | null;
  userName: string | null;
  lastUpdatedTime: string | null;
  stop: boolean | null;
  failure?: { summary: string } | null;
}

export interface DeploymentSpec {
  id: string;
  name: string | null;
  description: string | null;
  updateMessage: string | null;
  metadata: Record<string, string> | null;
  stop: boolean | null;
  userId: string | null;
  userName: string | null;
  groupId: string | null;
  groupName: string | null;
  endpoint: string | null;
  modelImage: string | null;
  modelURI: string | null;
  replicas: number | null;
  imagePullSecret: string | null;
  lastUpdatedTime: string | null;
  env: EnvVar[] | null;
  endpointAccessType: string | null;
  endpointClients: EndpointClient[] | null;
  instanceType: InstanceTypeRef | null;
}

/** A client of a private endpoint; the detail page reads its times too (never a token). */
export interface EndpointClient {
  name: string | null;
  createdAt?: string | null;
  createdBy?: string | null;
  expiresAt?: string | null;
  lastUsedAt?: string | null;
  rotatedAt?: string | null;
}

export interface Pod {
  name: string | null;
  phase: string | null;
  logEndpoint: string | null;
}

export interface Failure {
  reason: string;
  summary: string;
  hint: string;
  detail: string | null;
}

export interface Deployment extends DeploymentSpec {
  status: string | null;
  message: string | null;
  availableReplicas: number | null;
  creationTime: string | null;
  pods: Pod[] | null;
  failure?: Failure | null;
  predictors?: Predictor[];
}

/** One version of the model behind the deployment, with its share of the requests. */
export interface Predictor {
  name: string;
  primary: boolean;
  modelImage: string | null;
  instanceType: string | null;
  replicas: number | null;
  availableReplicas: number | null;
  trafficPercent: number;
  status: string | null;
  endpoint: string | null;
}

export interface HistoryItem {
  time: string | null;
  deployment: DeploymentSpec | null;
}

export interface Group {
  id: string;
  name: string | null;
  displayName: string | null;
  enabledDeployment: boolean | null;
  maxDeploy: number | null;
  deploymentsUsage: number | null;
  instanceTypes: InstanceType[] | null;
}

export interface AdminGroup extends Omit<Group, "instanceTypes"> {
  quotaCpu: number | null;
  quotaGpu: number | null;
  quotaMemory: number | null;
  members: string[] | null;
  instanceTypes: InstanceTypeRef[] | null;
}

export interface Me {
  id: string;
  username: string | null;
  isAdmin: boolean | null;
  effectiveGroups: Group[] | null;
}

export interface ApiToken {
  id: string;
  username: string;
  admin: boolean;
  createdAt: string;
  expiresAt: string | null;
  description: string | null;
  scopes: string[];
  createdBy: string | null;
  rotatedAt: string | null;
  previousExpiresAt: string | null;
  lastUsedAt: string | null;
}

/** PrimeHub's licence query: the licensed number of running deployments and the usage. */
export interface License {
  licenseStatus: string | null;
  expiredAt: string | null;
  maxModelDeploy: number | null;
  usage: { maxModelDeploy: number | null } | null;
}

/** One audit record (issue 14): who did what to what, when, and how it ended. */
export interface AuditEvent {
  id: string;
  time: string;
  component: string;
  actor: string;
  actorTokenId: string | null;
  action: string;
  target: string;
  group: string | null;
  outcome: string;
  reason: string | null;
  requestId: string;
  sourceAddress: string;
}

export interface AuditPage {
  edges: { node: AuditEvent; cursor: string }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}
