/**
 * The console's GraphQL operations: one file of named operations (operations.graphql), split
 * here into one document per operation with the fragments it spreads, so each request sends
 * only what it needs. The names are a closed union: a typo is a type error, and the test of
 * the operations checks that this list and the file agree.
 */
import source from "./operations.graphql?raw";

export type QueryName =
  | "Me"
  | "Deployments"
  | "Deployment"
  | "DeploymentHistory"
  | "DeploymentIdAvailable"
  | "Groups"
  | "InstanceTypes"
  | "ApiTokens"
  | "License"
  | "AuditEvents";

export type MutationName =
  | "CreateDeployment"
  | "UpdateDeployment"
  | "StartDeployment"
  | "StopDeployment"
  | "DeleteDeployment"
  | "RollbackDeployment"
  | "CreateClient"
  | "RotateClient"
  | "DeleteClient"
  | "CreateGroup"
  | "UpdateGroup"
  | "DeleteGroup"
  | "CreateInstanceType"
  | "UpdateInstanceType"
  | "DeleteInstanceType"
  | "CreateApiToken"
  | "RotateApiToken"
  | "RevokeApiToken";

export type SubscriptionName = "DeploymentChanged" | "DeploymentEvents";

export type OperationName = QueryName | MutationName | SubscriptionName;

interface Definition {
  text: string;
  spreads: string[];
}

const HEAD = /^(?:query|mutation|subscription|fragment)\s+(\w+)/;
const SPREAD = /\.\.\.\s*(\w+)/g;

/** Top-level definitions by name; each starts at a line beginning with its keyword. */
function definitions(text: string): Map<string, Definition> {
  const found = new Map<string, Definition>();
  const lines = text.split("\n").filter((line) => !line.trimStart().startsWith("#"));
  let name: string | null = null;
  let body: string[] = [];
  const flush = (): void => {
    if (name === null) return;
    const joined = body.join("\n").trim();
    const spreads = [...joined.matchAll(SPREAD)]
      .map((match) => match[1] ?? "")
      .filter((spread) => spread !== "on");
    found.set(name, { text: joined, spreads });
  };
  for (const line of lines) {
    const head = HEAD.exec(line);
    if (head) {
      flush();
      name = head[1] ?? null;
      body = [];
    }
    body.push(line);
  }
  flush();
  return found;
}

const all = definitions(source);
const documents = new Map<OperationName, string>();

/** The document for one operation: its text and every fragment it reaches. */
export function documentFor(name: OperationName): string {
  const cached = documents.get(name);
  if (cached !== undefined) return cached;
  const included: string[] = [];
  const seen = new Set<string>();
  const visit = (current: string): void => {
    if (seen.has(current)) return;
    seen.add(current);
    const definition = all.get(current);
    if (definition === undefined) throw new Error(`no GraphQL definition named ${current}`);
    included.push(definition.text);
    definition.spreads.forEach(visit);
  };
  visit(name);
  const document = included.join("\n\n");
  documents.set(name, document);
  return document;
}
