{{/* Labels of every object of `app` (call with dict "root" $ "app" $name). */}}
{{- define "fleet.labels" -}}
app.kubernetes.io/name: {{ .app }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/part-of: fleet
app.kubernetes.io/version: {{ .root.Values.image.tag | quote }}
{{- if not .root.Values.plain }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end }}
{{- end }}

{{/* What a workload's pods are selected by. */}}
{{- define "fleet.selector" -}}
app.kubernetes.io/name: {{ .app }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end }}

{{/* Object name of `app`: the release name, then the app. */}}
{{- define "fleet.name" -}}
{{- printf "%s-%s" .root.Release.Name .app | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{- define "fleet.image" -}}
{{- printf "%s/%s:%s" .root.Values.image.repository .app .root.Values.image.tag -}}
{{- end }}

{{/* The ConfigMap data of `app`: shared settings for what it uses, then its own env. */}}
{{- define "fleet.config" -}}
{{- $v := .root.Values -}}
{{- $cfg := .cfg -}}
SERVICE_NAME: {{ .app | quote }}
LOG_LEVEL: {{ $v.logLevel | quote }}
{{- if hasKey $cfg "healthPort" }}
HEALTH_PORT: {{ $cfg.healthPort | quote }}
HEALTH_HOST: "0.0.0.0"
{{- end }}
{{- if $v.otlpEndpoint }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ $v.otlpEndpoint | quote }}
{{- end }}
{{- if has "kafka" $cfg.uses }}
KAFKA_BROKERS: {{ $v.kafka.brokers | quote }}
{{- if $v.kafka.topicNamespace }}
KAFKA_TOPIC_NAMESPACE: {{ $v.kafka.topicNamespace | quote }}
{{- end }}
{{- end }}
{{- if has "redis" $cfg.uses }}
REDIS_URL: {{ $v.redis.url | quote }}
{{- end }}
{{- if has "minio" $cfg.uses }}
MINIO_ENDPOINT: {{ $v.minio.endpoint | quote }}
MINIO_PORT: {{ $v.minio.port | quote }}
MINIO_USE_SSL: {{ $v.minio.useSSL | quote }}
{{- end }}
{{- if hasKey $cfg "httpPort" }}
API_PORT: {{ $cfg.httpPort | quote }}
API_HOST: "0.0.0.0"
{{- end }}
{{- range $name := ($cfg.requiredEnv | default list) }}
{{- $_ := required (printf "apps.%s.env.%s is required" $.app $name) (get $cfg.env $name) }}
{{- end }}
{{- range $name, $value := $cfg.env }}
{{ $name }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/* The credentials Secret's name (call with the root): credentials.existingSecret when set, else secretName. */}}
{{- define "fleet.credentialsSecret" -}}
{{- .Values.credentials.existingSecret | default .Values.credentials.secretName -}}
{{- end }}

{{/* Env entries reading `app`'s keys of the credentials Secret. */}}
{{- define "fleet.secretEnv" -}}
{{- $secret := include "fleet.credentialsSecret" .root }}
{{- range $key := .cfg.secretEnv }}
- name: {{ $key }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $key }}
{{- end }}
{{- end }}

{{/*
  The defaults (first of the list) with each key the app's block (second) sets put over them, as YAML.
  Not sprig's merge: it takes a 0 or false of the app's block for unset (minReplicaCount: 0 became 1).
*/}}
{{- define "fleet.overlay" -}}
{{- $out := deepCopy (index . 0) -}}
{{- range $key, $value := index . 1 }}{{ $_ := set $out $key $value }}{{ end -}}
{{- toYaml $out -}}
{{- end }}

{{/*
  Fails unless an autoscaler's `min` ≤ `max` (key names, looked up in `values`), naming `path`:
  "apps.message-router.autoscaling: minReplicas (7) > maxReplicas (5)". JSON schema cannot compare two values.
*/}}
{{- define "fleet.checkReplicaRange" -}}
{{- $lo := index .values .min -}}
{{- $hi := index .values .max -}}
{{- if gt (int $lo) (int $hi) -}}
{{- fail (printf "%s: %s (%v) > %s (%v)" .path .min $lo .max $hi) -}}
{{- end -}}
{{- end }}

{{/*
  The HorizontalPodAutoscaler settings of `app` as YAML, empty unless apps.<app>.autoscaling.enabled:
  `autoscaling` overridden key by key by the app's block, checked (min ≤ max, the requests a target
  is measured against).
*/}}
{{- define "fleet.autoscaling" -}}
{{- $own := .cfg.autoscaling | default dict -}}
{{- if $own.enabled -}}
{{- $path := printf "apps.%s.autoscaling" .app -}}
{{- $hpa := include "fleet.overlay" (list .root.Values.autoscaling $own) | fromYaml -}}
{{- include "fleet.checkReplicaRange" (dict "path" $path "values" $hpa "min" "minReplicas" "max" "maxReplicas") -}}
{{- $requests := (.cfg.resources | default .root.Values.pod.resources).requests | default dict -}}
{{- range $resource := list "cpu" "memory" }}
{{- $key := printf "target%sUtilizationPercentage" (ternary "CPU" "Memory" (eq $resource "cpu")) }}
{{- if and (get $hpa $key) (not (get $requests $resource)) }}
{{- fail (printf "%s: %s needs a %s request (apps.%s.resources.requests.%s, or pod.resources.requests.%s): utilization is measured against it" $path $key $resource $.app $resource $resource) }}
{{- end }}
{{- end }}
{{- toYaml $hpa -}}
{{- end -}}
{{- end }}

{{/*
  The KEDA ScaledObject settings of `app` as YAML, empty unless apps.<app>.keda.enabled: `keda`
  overridden key by key by the app's block, checked; consumerGroup and topic get the topic namespace
  prefix as the app's own do (@fleet/contracts groupInNamespace / inNamespace: "<namespace>.<name>").
*/}}
{{- define "fleet.keda" -}}
{{- $own := .cfg.keda | default dict -}}
{{- if $own.enabled -}}
{{- $path := printf "apps.%s.keda" .app -}}
{{- $keda := include "fleet.overlay" (list .root.Values.keda $own) | fromYaml -}}
{{- include "fleet.checkReplicaRange" (dict "path" $path "values" $keda "min" "minReplicaCount" "max" "maxReplicaCount") -}}
{{- with .root.Values.kafka.topicNamespace }}
{{- $_ := set $keda "consumerGroup" (printf "%s.%s" . $keda.consumerGroup) }}
{{- $_ := set $keda "topic" (printf "%s.%s" . $keda.topic) }}
{{- end }}
{{- toYaml $keda -}}
{{- end -}}
{{- end }}

{{/*
  The topologySpreadConstraints of `app`'s Deployment: apps.<app>.topologySpread when the app has one
  ([] too), else pod.topologySpread; an entry without a labelSelector selects the app's pods.
*/}}
{{- define "fleet.topologySpread" -}}
{{- $spread := .root.Values.pod.topologySpread -}}
{{- if hasKey .cfg "topologySpread" }}{{ $spread = .cfg.topologySpread }}{{ end -}}
{{- $out := list -}}
{{- range $constraint := $spread | default list }}
{{- $c := deepCopy $constraint }}
{{- if not (hasKey $c "labelSelector") }}
{{- $_ := set $c "labelSelector" (dict "matchLabels" (include "fleet.selector" $ | fromYaml)) }}
{{- end }}
{{- $out = append $out $c }}
{{- end -}}
{{- with $out }}{{ toYaml . }}{{ end -}}
{{- end }}

{{/* The pod spec of `app` (after its restartPolicy, for jobs); `spread`: a Deployment's, spread over nodes. */}}
{{- define "fleet.podSpec" -}}
{{- $v := .root.Values -}}
terminationGracePeriodSeconds: {{ $v.pod.terminationGracePeriodSeconds }}
{{- with $v.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- include "fleet.podSecurityContext" . | nindent 2 }}
{{- with $v.pod.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.pod.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.pod.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if .spread }}
{{- with include "fleet.topologySpread" . }}
topologySpreadConstraints:
  {{- . | nindent 2 }}
{{- end }}
{{- end }}
containers:
  - name: {{ .app }}
    image: {{ include "fleet.image" . }}
    imagePullPolicy: {{ $v.image.pullPolicy }}
    {{- with .command }}
    command: {{ toJson . }}
    {{- end }}
    envFrom:
      - configMapRef:
          name: {{ include "fleet.name" . }}
    {{- with .cfg.secretEnv }}
    env:
      {{- include "fleet.secretEnv" $ | trim | nindent 6 }}
    {{- end }}
    {{- if and (hasKey .cfg "healthPort") (not .command) }}
    ports:
      - name: health
        containerPort: {{ .cfg.healthPort }}
      {{- if hasKey .cfg "httpPort" }}
      - name: http
        containerPort: {{ .cfg.httpPort }}
      {{- end }}
    livenessProbe:
      httpGet: { path: /health/live, port: health }
      periodSeconds: 10
      timeoutSeconds: 3
      failureThreshold: 3
    readinessProbe:
      httpGet: { path: /health/ready, port: health }
      periodSeconds: 5
      timeoutSeconds: 3
      failureThreshold: 2
    startupProbe:
      httpGet: { path: /health/live, port: health }
      periodSeconds: 2
      failureThreshold: 30
    {{- end }}
    resources:
      {{- toYaml (.cfg.resources | default $v.pod.resources) | nindent 6 }}
    securityContext:
      {{- include "fleet.containerSecurityContext" . | nindent 6 }}
    volumeMounts:
      - name: tmp
        mountPath: /tmp
volumes:
  - name: tmp
    emptyDir: {}
{{- end }}

{{/* A container running `node migrate.js up` in `app`'s image. */}}
{{- define "fleet.migrateContainer" -}}
- name: migrate-{{ .app }}
  image: {{ include "fleet.image" . }}
  imagePullPolicy: {{ .root.Values.image.pullPolicy }}
  command: [node, migrate.js, up]
  env:
    {{- include "fleet.secretEnv" (dict "root" .root "cfg" (dict "secretEnv" (list "DATABASE_URL"))) | trim | nindent 4 }}
  resources:
    {{- toYaml .root.Values.pod.resources | nindent 4 }}
  securityContext:
    {{- include "fleet.containerSecurityContext" . | nindent 4 }}
{{- end }}

{{/* Every fleet pod runs as the image's unprivileged `node` user. */}}
{{- define "fleet.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Every fleet container: no privilege escalation, a read-only root filesystem, no capabilities. */}}
{{- define "fleet.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end }}
