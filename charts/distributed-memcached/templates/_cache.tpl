{{/*
Cache pod pieces: the memcached container, the exporter and scheduling.
*/}}

{{/* memcached arguments of a cache server. */}}
{{- define "distributed-memcached.cache.args" -}}
- "-m"
- {{ .Values.cache.memoryMiB | int | quote }}
- "-p"
- {{ .Values.cache.port | int | quote }}
- "-c"
- {{ .Values.cache.maxConnections | int | quote }}
- "-t"
- {{ .Values.cache.threads | int | quote }}
- "-I"
- {{ .Values.cache.maxItemSize | toString | quote }}
- "-o"
- {{ printf "read_buf_mem_limit=%d" (int .Values.cache.readBufMemLimitMiB) | quote }}
- "-U"
- "0"
{{- range .Values.cache.extraArgs }}
- {{ toString . | quote }}
{{- end }}
{{- end }}

{{/* The memcached server container of a cache pod. */}}
{{- define "distributed-memcached.cache.container" -}}
- name: memcached
  image: {{ include "distributed-memcached.image" . | quote }}
  imagePullPolicy: {{ .Values.image.pullPolicy | quote }}
  command: ["memcached"]
  args:
    {{- include "distributed-memcached.cache.args" . | nindent 4 }}
  {{- with include "distributed-memcached.containerExtras" .Values.cache }}{{ . | trim | nindent 2 }}{{ end }}
  ports:
    - name: memcache
      containerPort: {{ .Values.cache.port | int }}
      protocol: TCP
  startupProbe:
    tcpSocket:
      port: memcache
    {{- toYaml .Values.cache.startupProbe | nindent 4 }}
  livenessProbe:
    tcpSocket:
      port: memcache
    {{- toYaml .Values.cache.livenessProbe | nindent 4 }}
  readinessProbe:
    tcpSocket:
      port: memcache
    {{- toYaml .Values.cache.readinessProbe | nindent 4 }}
  resources:
    {{- include "distributed-memcached.memory.resources" (dict "resources" .Values.cache.resources "memoryMiB" .Values.cache.memoryMiB "connections" .Values.cache.maxConnections "threads" .Values.cache.threads "readBufMemLimitMiB" .Values.cache.readBufMemLimitMiB) | nindent 4 }}
  securityContext:
    {{- toYaml .Values.containerSecurityContext | nindent 4 }}
  {{- with .Values.cache.lifecycle }}
  lifecycle:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.cache.extraVolumeMounts }}
  volumeMounts:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- if .Values.metrics.enabled }}
- name: exporter
  image: {{ include "distributed-memcached.imageRef" (dict "image" .Values.metrics.image "global" .Values.global) | quote }}
  imagePullPolicy: {{ .Values.metrics.image.pullPolicy | quote }}
  args:
    - {{ printf "--memcached.address=127.0.0.1:%d" (int .Values.cache.port) | quote }}
    - {{ printf "--web.listen-address=:%d" (int .Values.metrics.port) | quote }}
  ports:
    - name: metrics
      containerPort: {{ .Values.metrics.port | int }}
      protocol: TCP
  livenessProbe:
    tcpSocket:
      port: metrics
  readinessProbe:
    tcpSocket:
      port: metrics
  resources:
    {{- toYaml .Values.metrics.resources | nindent 4 }}
  securityContext:
    {{- toYaml .Values.containerSecurityContext | nindent 4 }}
{{- end }}
{{- with .Values.cache.sidecars }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Affinity of cache pods: cache.affinity wins; otherwise the top-level
affinity plus, unless it sets podAntiAffinity, anti-affinity on
kubernetes.io/hostname against every cache pod of the release (all copies),
so one node failure takes out at most one cache pod.
*/}}
{{- define "distributed-memcached.cache.affinity" -}}
{{- if .Values.cache.affinity }}
{{- toYaml .Values.cache.affinity }}
{{- else if not .Values.affinity }}
{{- with include "distributed-memcached.cache.antiAffinity" . }}
{{- printf "podAntiAffinity:\n%s" (. | indent 2) }}
{{- end }}
{{- else }}
{{- $shared := deepCopy .Values.affinity }}
{{- if not (hasKey $shared "podAntiAffinity") }}
{{- with include "distributed-memcached.cache.antiAffinity" . | fromYaml }}
{{- $_ := set $shared "podAntiAffinity" . }}
{{- end }}
{{- end }}
{{- with $shared }}{{ toYaml . }}{{ end }}
{{- end }}
{{- end }}

{{/* The generated pod anti-affinity of cache pods (cache.podAntiAffinity), or nothing. */}}
{{- define "distributed-memcached.cache.antiAffinity" -}}
{{- if eq .Values.cache.podAntiAffinity "hard" -}}
requiredDuringSchedulingIgnoredDuringExecution:
  - topologyKey: kubernetes.io/hostname
    labelSelector:
      matchLabels:
        {{- include "distributed-memcached.selectorLabels" (dict "ctx" . "component" "cache") | nindent 8 }}
{{- else if eq .Values.cache.podAntiAffinity "soft" -}}
preferredDuringSchedulingIgnoredDuringExecution:
  - weight: 100
    podAffinityTerm:
      topologyKey: kubernetes.io/hostname
      labelSelector:
        matchLabels:
          {{- include "distributed-memcached.selectorLabels" (dict "ctx" . "component" "cache") | nindent 10 }}
{{- end }}
{{- end }}

{{/*
Topology spread constraints; a constraint without labelSelector gets the
selector of its own StatefulSet's pods. Takes (dict "ctx" $ "copy" name).
*/}}
{{- define "distributed-memcached.cache.topologySpread" -}}
{{- $out := list }}
{{- range .ctx.Values.cache.topologySpreadConstraints }}
{{- $c := deepCopy . }}
{{- if not (hasKey $c "labelSelector") }}
{{- $_ := set $c "labelSelector" (dict "matchLabels" (include "distributed-memcached.cache.podSelector" $ | fromYaml)) }}
{{- end }}
{{- $out = append $out $c }}
{{- end }}
{{- if $out }}{{ toYaml $out }}{{ end }}
{{- end }}

{{/* Selector of one cache StatefulSet's pods. Takes (dict "ctx" $ "copy" name). */}}
{{- define "distributed-memcached.cache.podSelector" -}}
{{ include "distributed-memcached.selectorLabels" (dict "ctx" .ctx "component" "cache") }}
{{- if .copy }}
distributed-memcached/copy: {{ .copy | quote }}
{{- end }}
{{- end }}
