"""The GraphQL documents primehub-python-sdk 0.4.x sends, verbatim, so tests speak as it does.

Transcribed from the SDK's ``primehub/deployments.py``, ``groups.py``, ``me.py``,
``instancetypes.py`` and ``config.py``: the contract under test is that these exact documents,
posted form-encoded with ``variables`` as a JSON string, keep working.
"""

from __future__ import annotations

LIST = """
query ($where: PhDeploymentWhereInput) {
  phDeployments(where: $where) {
    id
    name
    modelImage
    imagePullSecret
    description
    replicas
    stop
    endpointAccessType
    endpointClients {
      name
    }
    status
    endpoint
    replicas
    availableReplicas
    message
    pods {
      name
    }
  }
}
"""

GET = """
query ($where: PhDeploymentWhereUniqueInput!) {
  phDeployment(where: $where) {
    id
    status
    message
    name
    description
    updateMessage
    metadata
    stop
    userName
    groupName
    endpoint
    modelImage
    modelURI
    replicas
    availableReplicas
    imagePullSecret
    instanceType {
      name
    }
    creationTime
    lastUpdatedTime
    pods {
      name
    }
    env {
      name
      value
    }
    endpointAccessType
    endpointClients {
      name
    }
  }
}
"""

HISTORY = """
query ($where: PhDeploymentWhereUniqueInput!) {
  phDeployment(where: $where) {
    history {
      time
      deployment {
        id
        name
        modelImage
        imagePullSecret
        description
        replicas
        stop
        endpointAccessType
        endpointClients {
          name
        }
        status
        endpoint
        replicas
      }
    }
  }
}
"""

_SELECTION = """
    id
    name
    modelImage
    imagePullSecret
    description
    replicas
    stop
    endpointAccessType
    endpointClients {
      name
    }
    status
    endpoint
    replicas
    availableReplicas
    message
"""

CREATE = """
mutation ($data: PhDeploymentCreateInput!) {
  createPhDeployment(data: $data) {""" + _SELECTION + """    pods {
      name
    }
  }
}
"""

UPDATE = """
mutation (
  $data: PhDeploymentUpdateInput!
  $where: PhDeploymentWhereUniqueInput!
) {
  updatePhDeployment(data: $data, where: $where) {""" + _SELECTION + """    pods {
      name
    }
  }
}
"""

START = """
mutation ($where: PhDeploymentWhereUniqueInput!) {
  deployPhDeployment(where: $where) {""" + _SELECTION + """    pods {
      name
    }
  }
}
"""

STOP = """
mutation ($where: PhDeploymentWhereUniqueInput!) {
  stopPhDeployment(where: $where) {""" + _SELECTION + """  }
}
"""

DELETE = """
mutation ($where: PhDeploymentWhereUniqueInput!) {
  deletePhDeployment(where: $where) {
    id
  }
}
"""

LOGS = """
query ($where: PhDeploymentWhereUniqueInput!) {
  phDeployment(where: $where) {
    pods {
      name
      phase
      logEndpoint
    }
  }
}
"""

WAIT = """
query ($where: PhDeploymentWhereUniqueInput!) {
  phDeployment(where: $where) {
    stop
    status
  }
}
"""

GROUPS = """
{
  me {
    effectiveGroups {
      id
      name
      displayName
      # user quota
      quotaCpu
      quotaGpu
      quotaMemory
      # group quota
      projectQuotaCpu
      projectQuotaGpu
      projectQuotaMemory
    }
  }
}
"""

ME = """
query {
  me {
    id
    username
    firstName
    lastName
    email
    isAdmin
  }
}
"""

INSTANCE_TYPES = """
query {
  me {
    effectiveGroups {
      name
      instanceTypes {
        id
        name
        displayName
        description
      }
    }
  }
}
"""
