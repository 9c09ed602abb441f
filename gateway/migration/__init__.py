"""``model-gateway migrate-from-primehub``: take over a PrimeHub install's model deployments.

What is read from where (PrimeHub 3.x/4.x):

- **PhDeployments** (``phdeployments.primehub.io``, PrimeHub's namespace, usually ``hub``):
  the same resource this product serves, so each one is adopted in place. PrimeHub kept each
  client's token *hash* (``$apr1$``, made for nginx) in ``spec.endpoint.clients[].token``;
  it moves into the deployment's clients Secret and leaves the spec. The proxy accepts it and
  replaces it by our scheme on its first successful use.
- **InstanceTypes** (``instancetypes.primehub.io``, same namespace): the same resource and
  shape; kept as they are.
- **Groups**: in PrimeHub's Keycloak, not in the cluster (the admin REST API of its realm):
  the group's ``name``, ``displayName`` and ``attributes`` (``enabled-deployment``,
  ``max-deploy``, ``project-quota-cpu``, ``project-quota-gpu``, ``project-quota-memory``),
  its members (``/groups/<id>/members``) and its realm roles, where ``it:<name>`` grants an
  instance type (roles of the ``everyone`` group grant it to every group). Each becomes a
  Group resource named after the PrimeHub group (lowercase, ``_`` as ``-``); the
  deployments' ``groupId`` (PrimeHub's Keycloak id) is rewritten to that name.
- **Deployments** ``deploy-<id>`` made by PrimeHub's controller: adopted without restarting
  their pods when owned by the same PhDeployment and selecting exactly the pod labels we use
  (:mod:`gateway.controller.adopting`); otherwise the controller replaces them.

The command plans first (:mod:`~gateway.migration.planning`, pure), prints one line per
object, and writes only with ``--apply`` (:mod:`~gateway.migration.applying`). Running it
again is safe: what was moved is not moved twice.
"""
