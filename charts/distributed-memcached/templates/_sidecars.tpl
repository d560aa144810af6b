{{/*
Containers and volumes that other charts can include to run the proxy (and
the local cache) next to their own app. Each takes this chart's context, i.e.
a dict with "Values" (this chart's values), "Release" and "Chart"; see the
README section "Using the sidecars from your own chart".
*/}}

{{/*
The memcached proxy as a native sidecar: an init container with
restartPolicy Always (Kubernetes 1.29+), started before the app containers
and stopped after them. Listens on proxy.port; mounts "proxyVolumes".
*/}}
{{- define "distributed-memcached.proxySidecar" -}}
- name: memcached-proxy
  image: {{ include "distributed-memcached.image" . | quote }}
  imagePullPolicy: {{ .Values.image.pullPolicy | quote }}
  restartPolicy: Always
  {{- include "distributed-memcached.proxy.containerSpec" . | nindent 2 }}
  {{- with .Values.proxy.lifecycle }}
  lifecycle:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/* Body shared by the proxy sidecar and the proxy DaemonSet container. */}}
{{- define "distributed-memcached.proxy.containerSpec" -}}
command: ["memcached"]
args:
  - "-o"
  - {{ printf "proxy_config=%s,proxy_arg=/etc/memcached/proxy.lua" (include "distributed-memcached.proxy.libs" .) | quote }}
  - "-p"
  - {{ .Values.proxy.port | int | quote }}
  - "-t"
  - {{ .Values.proxy.threads | int | quote }}
  - "-c"
  - {{ .Values.proxy.maxConnections | int | quote }}
  - "-o"
  - {{ printf "read_buf_mem_limit=%d" (int .Values.proxy.readBufMemLimitMiB) | quote }}
  {{- with include "distributed-memcached.proxy.tls" . | fromJson }}
  - "-Z"
  - "-o"
  - {{ .options | quote }}
  {{- end }}
  {{- range .Values.proxy.extraArgs }}
  - {{ toString . | quote }}
  {{- end }}
{{- with include "distributed-memcached.containerExtras" .Values.proxy }}{{ . }}{{ end }}
ports:
  - name: proxy
    containerPort: {{ .Values.proxy.port | int }}
    protocol: TCP
# As a native sidecar, the app containers start only once this succeeds.
startupProbe:
  tcpSocket:
    port: proxy
  periodSeconds: 1
  failureThreshold: 30
livenessProbe:
  tcpSocket:
    port: proxy
  initialDelaySeconds: 5
  periodSeconds: 10
  timeoutSeconds: 2
readinessProbe:
  tcpSocket:
    port: proxy
  periodSeconds: 5
  timeoutSeconds: 2
resources:
  {{- include "distributed-memcached.memory.resources" (dict "resources" .Values.proxy.resources "proxy" true "connections" .Values.proxy.maxConnections "threads" .Values.proxy.threads "readBufMemLimitMiB" .Values.proxy.readBufMemLimitMiB) | nindent 2 }}
securityContext:
  {{- toYaml .Values.containerSecurityContext | nindent 2 }}
volumeMounts:
  - name: memcached-proxy-config
    mountPath: /etc/memcached
    readOnly: true
  {{- with include "distributed-memcached.proxy.tls" . | fromJson }}
  {{- range .volumes }}
  - name: {{ .name | quote }}
    mountPath: {{ .mountPath | quote }}
    readOnly: true
  {{- end }}
  {{- end }}
  {{- with .Values.proxy.extraVolumeMounts }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}

{{/*
The small local cache as a native sidecar. It binds 127.0.0.1 only, which
kubelet's TCP probes cannot reach, so its probes run bash's /dev/tcp inside
the container (the official Debian-based image ships bash).
*/}}
{{- define "distributed-memcached.localCacheSidecar" -}}
{{- $lc := .Values.localCache -}}
- name: memcached-local
  image: {{ include "distributed-memcached.image" . | quote }}
  imagePullPolicy: {{ .Values.image.pullPolicy | quote }}
  restartPolicy: Always
  command: ["memcached"]
  args:
    - "-l"
    - "127.0.0.1"
    - "-p"
    - {{ $lc.port | int | quote }}
    - "-m"
    - {{ $lc.memoryMiB | int | quote }}
    - "-c"
    - {{ $lc.maxConnections | int | quote }}
    - "-t"
    - {{ $lc.threads | int | quote }}
    - "-I"
    - {{ $lc.maxItemSize | toString | quote }}
    - "-o"
    - {{ printf "read_buf_mem_limit=%d" (int $lc.readBufMemLimitMiB) | quote }}
    - "-U"
    - "0"
  {{- with include "distributed-memcached.containerExtras" $lc }}{{ . | nindent 2 }}{{ end }}
  ports:
    # Documentation only: the server listens on 127.0.0.1.
    - name: local-cache
      containerPort: {{ $lc.port | int }}
      protocol: TCP
  # The proxy sidecar (next in order) starts only once this succeeds.
  startupProbe:
    exec:
      command: ["bash", "-c", {{ printf "exec 3<>/dev/tcp/127.0.0.1/%d" (int $lc.port) | quote }}]
    periodSeconds: 1
    failureThreshold: 30
  livenessProbe:
    exec:
      command: ["bash", "-c", {{ printf "exec 3<>/dev/tcp/127.0.0.1/%d" (int $lc.port) | quote }}]
    initialDelaySeconds: 5
    periodSeconds: 10
    timeoutSeconds: 2
  readinessProbe:
    exec:
      command: ["bash", "-c", {{ printf "exec 3<>/dev/tcp/127.0.0.1/%d" (int $lc.port) | quote }}]
    periodSeconds: 5
    timeoutSeconds: 2
  resources:
    {{- include "distributed-memcached.memory.resources" (dict "resources" $lc.resources "memoryMiB" $lc.memoryMiB "connections" $lc.maxConnections "threads" $lc.threads "readBufMemLimitMiB" $lc.readBufMemLimitMiB) | nindent 4 }}
  securityContext:
    {{- toYaml .Values.containerSecurityContext | nindent 4 }}
  {{- with $lc.lifecycle }}
  lifecycle:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $lc.extraVolumeMounts }}
  volumeMounts:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/*
All native sidecars of the current mode, in start order (the local cache
first so the proxy finds it).
*/}}
{{- define "distributed-memcached.sidecars" -}}
{{- if eq .Values.mode "sidecar-failover" -}}
{{ include "distributed-memcached.localCacheSidecar" . }}
{{ end -}}
{{ include "distributed-memcached.proxySidecar" . }}
{{- end }}

{{/*
The volumes of a pod that runs the proxy: proxy.lua from this release's proxy
ConfigMap, then proxy.extraVolumes (and localCache.extraVolumes in
sidecar-failover mode).
*/}}
{{- define "distributed-memcached.proxyVolumes" -}}
{{- include "distributed-memcached.proxyVolumesFor" (dict "ctx" . "zone" "") }}
{{- end }}

{{/* The proxy's volumes in one zone ("" without zones). Takes (dict "ctx" $ "zone" z). */}}
{{- define "distributed-memcached.proxyVolumesFor" -}}
{{- $v := .ctx.Values -}}
- name: memcached-proxy-config
  configMap:
    name: {{ include "distributed-memcached.zoneName" (dict "base" (include "distributed-memcached.proxy.configMapName" .ctx) "zone" .zone "max" 63) | quote }}
{{- with include "distributed-memcached.proxy.tls" .ctx | fromJson }}
{{- range .volumes }}
- name: {{ .name | quote }}
  secret:
    secretName: {{ .secretName | quote }}
    items:
      {{- range .items }}
      - key: {{ .key | quote }}
        path: {{ .path | quote }}
      {{- end }}
{{- end }}
{{- end }}
{{- with $v.proxy.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- if eq $v.mode "sidecar-failover" }}
{{- with $v.localCache.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The proxy listener's TLS as JSON, or "{}" when off (TLS is only offered where
clients reach the proxy over the network: daemonset, replicated-sharded):
  options  memcached's -o ssl_* list
  volumes  [{name, secretName, mountPath, items: [{key, path}]}], read-only Secret mounts
The server certificate and key come from proxy.tls.secretName; the client CA
from clientCA.secretName, or from the same Secret (one volume) when empty.
*/}}
{{- define "distributed-memcached.proxy.tls" -}}
{{- $t := .Values.proxy.tls -}}
{{- if and $t.enabled (has .Values.mode (list "daemonset" "replicated-sharded")) -}}
{{- $dir := "/etc/memcached-tls" -}}
{{- $caDir := "/etc/memcached-client-ca" -}}
{{- $items := list (dict "key" "tls.crt" "path" "tls.crt") (dict "key" "tls.key" "path" "tls.key") -}}
{{- $opts := list (printf "ssl_chain_cert=%s/tls.crt" $dir) (printf "ssl_key=%s/tls.key" $dir) -}}
{{- $volumes := list -}}
{{- $modes := dict "none" 0 "request" 1 "require" 2 "once" 3 -}}
{{- $verify := default "none" $t.verifyClient -}}
{{- if ne $verify "none" -}}
{{- $opts = append $opts (printf "ssl_verify_mode=%d" (get $modes $verify | int)) -}}
{{- if $t.clientCA.secretName -}}
{{- $opts = append $opts (printf "ssl_ca_cert=%s/ca.crt" $caDir) -}}
{{- $volumes = append $volumes (dict "name" "memcached-proxy-client-ca" "secretName" $t.clientCA.secretName "mountPath" $caDir "items" (list (dict "key" $t.clientCA.key "path" "ca.crt"))) -}}
{{- else -}}
{{- $opts = append $opts (printf "ssl_ca_cert=%s/ca.crt" $dir) -}}
{{- $items = append $items (dict "key" $t.clientCA.key "path" "ca.crt") -}}
{{- end -}}
{{- end -}}
{{- $volumes = prepend $volumes (dict "name" "memcached-proxy-tls" "secretName" $t.secretName "mountPath" $dir "items" $items) -}}
{{- dict "options" (join "," $opts) "volumes" $volumes | toJson -}}
{{- else -}}
{}
{{- end -}}
{{- end }}
