{{/*
Names, labels and the settings every component shares. Components are told apart by the
app.kubernetes.io/component label; NetworkPolicies and Services select on it.
*/}}

{{- define "model-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The resource name prefix, short enough to take a "-controller" suffix within 63 characters. */}}
{{- define "model-gateway.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "model-gateway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels selecting one component's pods: include with (dict "root" $ "component" "api"). */}}
{{- define "model-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "model-gateway.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Every label of a component's objects: include with (dict "root" $ "component" "api"). */}}
{{- define "model-gateway.labels" -}}
helm.sh/chart: {{ include "model-gateway.chart" .root }}
{{ include "model-gateway.selectorLabels" . }}
app.kubernetes.io/part-of: model-gateway
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{- define "model-gateway.deploymentsNamespace" -}}
{{- default .Release.Namespace .Values.deploymentsNamespace }}
{{- end }}

{{- define "model-gateway.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "model-gateway.publicUrl" -}}
{{- if .Values.publicUrl }}
{{- .Values.publicUrl | trimSuffix "/" }}
{{- else if and .Values.ingress.enabled .Values.ingress.host }}
{{- printf "%s://%s" (ternary "https" "http" .Values.ingress.tls.enabled) .Values.ingress.host }}
{{- else }}
{{- printf "http://%s-proxy.%s.svc:%d" (include "model-gateway.fullname" .) .Release.Namespace (int .Values.proxy.port) }}
{{- end }}
{{- end }}

{{- define "model-gateway.secretName" -}}
{{- default (include "model-gateway.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{- define "model-gateway.redisSecretName" -}}
{{- if .Values.redis.enabled }}
{{- default (printf "%s-redis" (include "model-gateway.fullname" .)) .Values.redis.auth.existingSecret }}
{{- else }}
{{- .Values.redis.external.existingSecret }}
{{- end }}
{{- end }}

{{- define "model-gateway.redisPasswordKey" -}}
{{- ternary .Values.redis.auth.passwordKey .Values.redis.external.passwordKey .Values.redis.enabled }}
{{- end }}

{{- define "model-gateway.redisUrl" -}}
{{- if .Values.redis.enabled }}
{{- printf "redis://%s-redis.%s.svc:6379/0" (include "model-gateway.fullname" .) .Release.Namespace }}
{{- else if .Values.redis.external.url }}
{{- .Values.redis.external.url }}
{{- else }}
{{- fail "redis.external.url must be set when redis.enabled is false" }}
{{- end }}
{{- end }}

{{/* The Redis connection of the API, the controller and the proxy: one URL, the password from a Secret. */}}
{{- define "model-gateway.redisEnv" -}}
- name: MODEL_GATEWAY_REDIS_URL
  value: {{ include "model-gateway.redisUrl" . | quote }}
{{- if include "model-gateway.redisSecretName" . }}
- name: MODEL_GATEWAY_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "model-gateway.redisSecretName" . }}
      key: {{ include "model-gateway.redisPasswordKey" . }}
{{- end }}
{{- end }}

{{/* Pod placement shared by the components: include with the component's values. */}}
{{- define "model-gateway.scheduling" -}}
{{- with .priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- define "model-gateway.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- end }}

{{/* A generated secret value: the one already in the cluster if any (upgrades keep it), else new. */}}
{{- define "model-gateway.keptSecretValue" -}}
{{- $existing := lookup "v1" "Secret" .namespace .name }}
{{- $data := dig "data" dict ($existing | default dict) }}
{{- if hasKey $data .key }}
{{- index $data .key }}
{{- else }}
{{- randAlphaNum .length | b64enc }}
{{- end }}
{{- end }}

{{/* A map as "key=value" pairs joined by commas, keys sorted (the controller's storage initializers). */}}
{{- define "model-gateway.pairs" -}}
{{- $pairs := list }}
{{- range $key, $value := . }}
{{- $pairs = append $pairs (printf "%s=%s" $key $value) }}
{{- end }}
{{- join "," $pairs }}
{{- end }}

{{/* The API's own public base URL (log endpoints): the same host as the proxy behind the ingress. */}}
{{- define "model-gateway.apiPublicUrl" -}}
{{- if .Values.api.publicUrl }}
{{- .Values.api.publicUrl | trimSuffix "/" }}
{{- else if or .Values.publicUrl .Values.ingress.enabled }}
{{- include "model-gateway.publicUrl" . }}
{{- else }}
{{- printf "http://%s-api.%s.svc:%d" (include "model-gateway.fullname" .) .Release.Namespace (int .Values.api.port) }}
{{- end }}
{{- end }}

{{- /* Proxy worker processes per pod: proxy.workers, or by default the CPU limit rounded up
       (one worker per core the pod may use), or 1 without a CPU limit. */}}
{{- define "model-gateway.proxyWorkers" -}}
{{- $proxy := .Values.proxy -}}
{{- if not (kindIs "invalid" $proxy.workers) -}}
{{- $proxy.workers | int -}}
{{- else -}}
{{- $cpu := toString (dig "limits" "cpu" "" ($proxy.resources | default dict)) -}}
{{- $count := 1 -}}
{{- if hasSuffix "m" $cpu -}}
{{- $count = div (add (trimSuffix "m" $cpu | atoi) 999) 1000 -}}
{{- else if $cpu -}}
{{- $count = ceil ($cpu | float64) | int -}}
{{- end -}}
{{- if lt (int $count) 1 }}1{{ else }}{{ min (int $count) 64 }}{{ end -}}
{{- end -}}
{{- end -}}

{{/* Where models come from: the same settings for the API (what it accepts) and the controller
(what it builds). Protected: Redis's claim and the chart's own Secrets, never a group's. */}}
{{- define "model-gateway.sourcesEnv" -}}
{{- with .Values.controller.storageInitializers }}
- name: MODEL_GATEWAY_CONTROLLER_STORAGE_INITIALIZERS
  value: {{ include "model-gateway.pairs" . | quote }}
{{- end }}
{{- with .Values.phfs.claim }}
- name: MODEL_GATEWAY_PHFS_CLAIM
  value: {{ . | quote }}
{{- end }}
{{- if .Values.redis.enabled }}
- name: MODEL_GATEWAY_PROTECTED_CLAIMS
  value: {{ printf "data-%s-redis-0" (include "model-gateway.fullname" .) | quote }}
{{- end }}
{{- $secrets := list (include "model-gateway.secretName" .) }}
{{- with include "model-gateway.redisSecretName" . }}
{{- $secrets = append $secrets . }}
{{- end }}
{{- with .Values.api.trustedHeader.existingSecret }}
{{- $secrets = append $secrets . }}
{{- end }}
- name: MODEL_GATEWAY_PROTECTED_SECRETS
  value: {{ join "," (uniq $secrets) | quote }}
{{- end }}

{{/*
The audit trail's query window, read by every component that writes audit records.
*/}}
{{- define "model-gateway.auditEnv" -}}
- name: MODEL_GATEWAY_AUDIT_WINDOW
  value: {{ .Values.audit.window | quote }}
- name: MODEL_GATEWAY_AUDIT_STREAM_CAP
  value: {{ .Values.audit.streamCap | int64 | quote }}
{{- end }}
