{{/*
Checks every value that could produce a broken release, collects all
problems and fails once with the full list. values.schema.json rejects most
of these first; this keeps `--skip-schema-validation` and cross-field rules
covered too.
*/}}
{{- define "distributed-memcached.validateValues" -}}
{{- $v := .Values }}
{{- $errs := list }}
{{- /* Names other charts use for what this chart calls otherwise. values.schema.json
lets them through so this message, not "additional properties", is what the user reads. */}}
{{- $aliases := dict
  "replicaCount" "`cache.replicas`"
  "resources" "`cache.resources` (or `proxy.resources`, `localCache.resources`)"
  "memory" "`cache.memoryMiB`"
  "podAnnotations" "`cache.podAnnotations` (or `proxy.daemonset.podAnnotations`, `app.podAnnotations`)"
  "podLabels" "`cache.podLabels` (or `proxy.daemonset.podLabels`, `app.podLabels`)"
  "securityContext" "`containerSecurityContext` (or `podSecurityContext`)"
  "priorityClassName" "`cache.priorityClassName` (or `proxy.daemonset.priorityClassName`, `app.priorityClassName`)"
  "extraEnvVars" "`cache.extraEnv` (or `proxy.extraEnv`, `localCache.extraEnv`)"
  "extraVolumes" "`cache.extraVolumes` (or `proxy.extraVolumes`, `localCache.extraVolumes`)"
  "extraVolumeMounts" "`cache.extraVolumeMounts` (or `proxy.extraVolumeMounts`, `localCache.extraVolumeMounts`)"
  "service" "`cache.service` (the headless Service) or `proxy.service`"
  "updateStrategy" "`cache.updateStrategy` (or `proxy.daemonset.updateStrategy`, `app.updateStrategy`)"
  "topologySpreadConstraints" "`cache.topologySpreadConstraints`"
  "initContainers" "`cache.initContainers` (or `proxy.daemonset.initContainers`, `app.initContainers`)"
  "sidecars" "`cache.sidecars` (or `proxy.daemonset.sidecars`)"
  "lifecycleHooks" "`cache.lifecycle` (or `proxy.lifecycle`, `localCache.lifecycle`)"
  "podDisruptionBudget" "`cache.podDisruptionBudget`"
  "pdb" "`cache.podDisruptionBudget`"
  "terminationGracePeriodSeconds" "`cache.terminationGracePeriodSeconds` (or `proxy.daemonset.terminationGracePeriodSeconds`, `app.terminationGracePeriodSeconds`)" }}
{{- range $k, $to := $aliases }}
{{- if hasKey $v $k }}
{{- $errs = append $errs (printf "%s: not a value of this chart; did you mean %s?" $k $to) }}
{{- end }}
{{- end }}
{{- $modes := list "cache" "daemonset" "sidecar" "sidecar-failover" "replicated-sharded" }}
{{- if not (has $v.mode $modes) }}
{{- $errs = append $errs (printf "mode: %q is not one of %s" (toString $v.mode) (join ", " $modes)) }}
{{- end }}
{{- if and (has $v.mode (list "sidecar" "sidecar-failover")) $v.app.enabled (not $v.app.containers) }}
{{- $errs = append $errs (printf "app.containers: mode %s runs the proxy next to your app, so the app Deployment needs at least one container, e.g. --set 'app.containers[0].name=app,app.containers[0].image=nginx:1.27' (or set app.enabled=false and include the sidecars in your own chart, see the chart README)" $v.mode) }}
{{- end }}
{{- if and (has $v.mode (list "cache" "replicated-sharded")) (not $v.cache.enabled) }}
{{- $errs = append $errs (printf "cache.enabled: mode %s runs its own cache, so it cannot be false; set cache.enabled=true, or use mode daemonset, sidecar or sidecar-failover to point proxies at externalCache" $v.mode) }}
{{- end }}
{{- if $v.cache.enabled }}
{{- if lt (int $v.cache.replicas) 1 }}
{{- $errs = append $errs "cache.replicas: must be at least 1 (an empty backend list crashes the proxy)" }}
{{- end }}
{{- else if has $v.mode (list "daemonset" "sidecar" "sidecar-failover") }}
{{- if not $v.externalCache.statefulSetName }}
{{- $errs = append $errs "externalCache.statefulSetName: required when cache.enabled is false; set it to the name of the other release's cache StatefulSet (e.g. memcached)" }}
{{- end }}
{{- if not $v.externalCache.serviceName }}
{{- $errs = append $errs "externalCache.serviceName: required when cache.enabled is false; set it to the name of that cache's headless Service (e.g. memcached)" }}
{{- end }}
{{- if lt (int $v.externalCache.replicas) 1 }}
{{- $errs = append $errs (printf "externalCache.replicas: %v; set it to the other release's cache.replicas (at least 1: an empty backend list crashes the proxy)" $v.externalCache.replicas) }}
{{- end }}
{{- end }}
{{- if and (eq $v.mode "replicated-sharded") (not $v.cache.zones) }}
{{- $names := include "distributed-memcached.copyNames" . | fromJsonArray }}
{{- if kindIs "slice" $v.cache.copies }}
{{- range $names }}
{{- if not (regexMatch "^[a-z0-9]{1,10}$" (toString .)) }}
{{- $errs = append $errs (printf "cache.copies: %q must be 1-10 lowercase letters or digits (it names a StatefulSet and a routelib zone)" (toString .)) }}
{{- end }}
{{- end }}
{{- if ne (len $names) (len (uniq $names)) }}
{{- $errs = append $errs "cache.copies: names must be unique" }}
{{- end }}
{{- else if or (lt (int $v.cache.copies) 2) (gt (int $v.cache.copies) 26) }}
{{- $errs = append $errs (printf "cache.copies: %v copies requested; use 2 to 26 (or a list of names)" $v.cache.copies) }}
{{- end }}
{{- if lt (len $names) 2 }}
{{- $errs = append $errs "cache.copies: replicated-sharded needs at least 2 copies" }}
{{- end }}
{{- end }}
{{- if $v.cache.zones }}
{{- if ne $v.mode "replicated-sharded" }}
{{- $errs = append $errs (printf "cache.zones: zones place one copy of the data per zone, which needs mode replicated-sharded (mode is %s); set mode=replicated-sharded or drop cache.zones" (toString $v.mode)) }}
{{- else }}
{{- range $v.cache.zones }}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]{0,28}[a-z0-9])?$" (toString .)) }}
{{- $errs = append $errs (printf "cache.zones: %q must be 1-30 lowercase letters, digits or '-', starting and ending with a letter or digit (it names a StatefulSet, a DaemonSet and a routelib zone)" (toString .)) }}
{{- end }}
{{- end }}
{{- if ne (len $v.cache.zones) (len (uniq $v.cache.zones)) }}
{{- $errs = append $errs "cache.zones: zone names must be unique" }}
{{- end }}
{{- if lt (len $v.cache.zones) 2 }}
{{- $errs = append $errs (printf "cache.zones: %d zone given; zone-local copies need at least 2 zones (each zone's proxies read the other zones on a miss)" (len $v.cache.zones)) }}
{{- end }}
{{- if $v.proxy.customConfig }}
{{- $errs = append $errs "proxy.customConfig: with cache.zones each zone's proxies get their own generated config (its local_zone differs); drop proxy.customConfig or cache.zones" }}
{{- end }}
{{- end }}
{{- end }}
{{- $from := int $v.cache.migration.fromReplicas }}
{{- if gt $from 0 }}
{{- if not (has $v.mode (list "daemonset" "sidecar-failover" "replicated-sharded")) }}
{{- $errs = append $errs (printf "cache.migration.fromReplicas: mode %s has no sharded proxy pool to migrate (only daemonset, sidecar-failover and replicated-sharded do); drop cache.migration" (toString $v.mode)) }}
{{- else if $v.proxy.customConfig }}
{{- $errs = append $errs "cache.migration.fromReplicas: the migration is written into the generated proxy config, and proxy.customConfig replaces it; drop one of them" }}
{{- else }}
{{- $now := int $v.cache.replicas }}
{{- if not $v.cache.enabled }}{{ $now = int $v.externalCache.replicas }}{{ end }}
{{- if eq $from $now }}
{{- $errs = append $errs (printf "cache.migration.fromReplicas: %d equals the current replicas, so nothing moves; the migration is over: drop cache.migration" $from) }}
{{- end }}
{{- end }}
{{- end }}
{{- if lt (int $v.cache.memoryMiB) 64 }}
{{- $errs = append $errs (printf "cache.memoryMiB: %v is below the 64 MiB minimum" $v.cache.memoryMiB) }}
{{- end }}
{{- if lt (int $v.localCache.memoryMiB) 8 }}
{{- $errs = append $errs (printf "localCache.memoryMiB: %v is below the 8 MiB minimum" $v.localCache.memoryMiB) }}
{{- end }}
{{- if not (has $v.cache.podAntiAffinity (list "hard" "soft" "none")) }}
{{- $errs = append $errs (printf "cache.podAntiAffinity: %q is not one of hard, soft, none" (toString $v.cache.podAntiAffinity)) }}
{{- end }}
{{- if and (eq $v.mode "sidecar-failover") (eq (int $v.localCache.port) (int $v.proxy.port)) }}
{{- $errs = append $errs (printf "localCache.port: %v is also proxy.port; the two sidecars share the pod network" $v.localCache.port) }}
{{- end }}
{{- if and (eq $v.mode "sidecar-failover") (lt (int $v.localCache.ttl) 1) }}
{{- $errs = append $errs "localCache.ttl: must be at least 1 second (0 would keep local copies forever)" }}
{{- end }}
{{- if and $v.metrics.serviceMonitor.enabled (not $v.metrics.enabled) }}
{{- $errs = append $errs "metrics.serviceMonitor.enabled: the ServiceMonitor scrapes the exporter sidecar; also set metrics.enabled=true (or drop metrics.serviceMonitor.enabled)" }}
{{- end }}
{{- if and $v.metrics.enabled (not $v.cache.enabled) }}
{{- $errs = append $errs "metrics.enabled: the exporter runs in cache pods and this release runs none (cache.enabled is false); enable metrics in the release that runs the cache" }}
{{- end }}
{{- if and (include "distributed-memcached.isSidecarMode" .) $v.app.enabled $v.app.service.enabled (not $v.app.service.ports) }}
{{- $errs = append $errs "app.service.ports: app.service.enabled renders a Service, which needs at least one port, e.g. [{name: http, port: 80, targetPort: http}] (the app container must declare the named port)" }}
{{- end }}
{{- if not (has $v.proxy.service.type (list "ClusterIP" "NodePort" "LoadBalancer")) }}
{{- $errs = append $errs (printf "proxy.service.type: %q is not one of ClusterIP, NodePort, LoadBalancer" (toString $v.proxy.service.type)) }}
{{- end }}
{{- /* Names, labels and image references. values.schema.json has the same
patterns; these checks also cover --skip-schema-validation and the names the
chart builds from the release name and namespace. */}}
{{- $kinds := dict
  "label" (list `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$` 63 "a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit")
  "dns1035" (list `^[a-z]([-a-z0-9]*[a-z0-9])?$` 63 "a DNS-1035 label: at most 63 lowercase letters, digits and '-', starting with a letter and ending with a letter or digit")
  "subdomain" (list `^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$` 253 "a DNS subdomain: at most 253 characters of dot-separated DNS-1123 labels (lowercase letters, digits and '-')")
  "repository" (list `^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(\.([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(:[0-9]{1,5})?/)?[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$` 255 "an image repository: lowercase path components separated by '/', optionally after a registry host[:port]/, with no tag or digest")
  "tag" (list `^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$` 128 "an image tag: 1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'")
  "digest" (list `^[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$` 200 "an image digest: an algorithm, ':' and at least 32 hex digits")
  "registry" (list `^([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(\.([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(:[0-9]{1,5})?$` 253 "a registry: a host name or address with an optional :port, no path, scheme or slash") }}
{{- $names := list
  (list "nameOverride" $v.nameOverride "label" "cache" false)
  (list "fullnameOverride" $v.fullnameOverride "dns1035" "memcached" false)
  (list "clusterDomain" $v.clusterDomain "subdomain" "cluster.local" true)
  (list "serviceAccount.name" $v.serviceAccount.name "subdomain" "memcached" false)
  (list "cache.priorityClassName" $v.cache.priorityClassName "subdomain" "high-priority" false)
  (list "proxy.daemonset.priorityClassName" $v.proxy.daemonset.priorityClassName "subdomain" "high-priority" false)
  (list "app.priorityClassName" $v.app.priorityClassName "subdomain" "high-priority" false)
  (list "externalCache.statefulSetName" $v.externalCache.statefulSetName "label" "memcached" false)
  (list "externalCache.serviceName" $v.externalCache.serviceName "dns1035" "memcached" false)
  (list "externalCache.namespace" $v.externalCache.namespace "label" "cache" false)
  (list "image.repository" $v.image.repository "repository" "memcached" true)
  (list "image.tag" $v.image.tag "tag" "1.6.38" true)
  (list "image.digest" $v.image.digest "digest" "sha256:<64 hex digits>" false)
  (list "metrics.image.repository" $v.metrics.image.repository "repository" "prom/memcached-exporter" true)
  (list "metrics.image.tag" $v.metrics.image.tag "tag" "v0.15.3" true)
  (list "metrics.image.digest" $v.metrics.image.digest "digest" "sha256:<64 hex digits>" false)
  (list "tests.image.repository" $v.tests.image.repository "repository" "busybox" true)
  (list "tests.image.tag" $v.tests.image.tag "tag" "1.36.1" true)
  (list "tests.image.digest" $v.tests.image.digest "digest" "sha256:<64 hex digits>" false)
  (list "image.registry" $v.image.registry "registry" "registry.example.com:5000" false)
  (list "metrics.image.registry" $v.metrics.image.registry "registry" "registry.example.com:5000" false)
  (list "tests.image.registry" $v.tests.image.registry "registry" "registry.example.com:5000" false)
  (list "global.imageRegistry" (dig "imageRegistry" "" (default (dict) $v.global)) "registry" "registry.example.com:5000" false)
  (list "namespaceOverride" $v.namespaceOverride "label" "cache" false) }}
{{- range $key := list "imagePullSecrets" "global.imagePullSecrets" }}
{{- $list := ternary $v.imagePullSecrets (dig "imagePullSecrets" list (default (dict) $v.global)) (eq $key "imagePullSecrets") }}
{{- if and $list (not (kindIs "slice" $list)) }}
{{- $errs = append $errs (printf "%s: must be a list of Secret names or {name: ...}" $key) }}
{{- else }}
{{- range $list }}
{{- $n := ternary . (dig "name" "" (ternary . (dict) (kindIs "map" .))) (kindIs "string" .) }}
{{- $names = append $names (list $key $n "subdomain" "regcred" true) }}
{{- end }}
{{- end }}
{{- end }}
{{- range $names }}
{{- $k := index $kinds (index . 2) }}
{{- $value := index . 1 | default "" | toString }}
{{- if eq $value "" }}
{{- if index . 4 }}
{{- $errs = append $errs (printf "%s: must not be empty; write %s, e.g. %s" (index . 0) (index $k 2) (index . 3)) }}
{{- end }}
{{- else if or (gt (len $value) (index $k 1 | int)) (not (regexMatch (index $k 0) $value)) }}
{{- $errs = append $errs (printf "%s: %q is not %s; write e.g. %s" (index . 0) $value (index $k 2) (index . 3)) }}
{{- end }}
{{- end }}
{{- if not (regexMatch (index $kinds "label" 0) .Release.Namespace) }}
{{- $errs = append $errs (printf "namespace: %q is not %s" .Release.Namespace (index $kinds "label" 2)) }}
{{- end }}
{{- range include "distributed-memcached.validateExtensions" . | fromJsonArray }}
{{- $errs = append $errs . }}
{{- end }}
{{- $fullname := include "distributed-memcached.fullname" . }}
{{- if and (regexMatch (index $kinds "label" 0) (toString $v.nameOverride | default "x")) (regexMatch (index $kinds "dns1035" 0) (toString $v.fullnameOverride | default "x")) (not (regexMatch (index $kinds "dns1035" 0) $fullname)) }}
{{- $errs = append $errs (printf "fullnameOverride: the object names start with %q (from the release name %q), which is not %s; set fullnameOverride, e.g. memcached" $fullname .Release.Name (index $kinds "dns1035" 2)) }}
{{- end }}
{{- $qname := `^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$` }}
{{- $labelValue := `^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$` }}
{{- $chartLabels := list "helm.sh/chart" "app.kubernetes.io/name" "app.kubernetes.io/instance" "app.kubernetes.io/component" "app.kubernetes.io/version" "app.kubernetes.io/managed-by" "app.kubernetes.io/part-of" "distributed-memcached/copy" }}
{{- $labelMaps := list (list "commonLabels" $v.commonLabels) (list "cache.podLabels" $v.cache.podLabels) (list "app.podLabels" $v.app.podLabels) (list "proxy.daemonset.podLabels" $v.proxy.daemonset.podLabels) (list "metrics.serviceMonitor.labels" $v.metrics.serviceMonitor.labels) }}
{{- $annotationMaps := list (list "commonAnnotations" $v.commonAnnotations) (list "serviceAccount.annotations" $v.serviceAccount.annotations) (list "cache.podAnnotations" $v.cache.podAnnotations) (list "cache.service.annotations" $v.cache.service.annotations) (list "app.podAnnotations" $v.app.podAnnotations) (list "proxy.daemonset.podAnnotations" $v.proxy.daemonset.podAnnotations) (list "proxy.service.annotations" $v.proxy.service.annotations) }}
{{- range $m := concat $labelMaps $annotationMaps }}
{{- $isLabels := has $m $labelMaps }}
{{- if and (index $m 1) (not (kindIs "map" (index $m 1))) }}
{{- $errs = append $errs (printf "%s: must be a map of names to strings" (index $m 0)) }}
{{- else }}
{{- range $key, $val := index $m 1 }}
{{- if or (gt (len $key) 317) (not (regexMatch $qname $key)) }}
{{- $errs = append $errs (printf "%s: key %q is not a valid %s name: [prefix/]name, the name 1-63 letters, digits, '-', '_' or '.' starting and ending with a letter or digit, the prefix a DNS subdomain (e.g. example.com/team)" (index $m 0) $key (ternary "label" "annotation" $isLabels)) }}
{{- else if and $isLabels (has $key $chartLabels) }}
{{- $errs = append $errs (printf "%s: %q is set by the chart (the selectors rely on it); use another label name" (index $m 0) $key) }}
{{- else if and (not $isLabels) (eq $key "checksum/config") }}
{{- $errs = append $errs (printf "%s: %q is set by the chart (it rolls the proxies when their config changes); use another annotation name" (index $m 0) $key) }}
{{- end }}
{{- if and $isLabels (or (not (kindIs "string" $val)) (not (regexMatch $labelValue (toString $val)))) }}
{{- $errs = append $errs (printf "%s.%s: %q is not a label value: a string of at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (or empty); quote numbers and booleans" (index $m 0) $key (toString $val)) }}
{{- else if not (kindIs "string" $val) }}
{{- $errs = append $errs (printf "%s.%s: annotation values are strings; quote %v" (index $m 0) $key $val) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- range $k, $_ := $v.proxy.settings }}
{{- if not (regexMatch `^[a-z_]{1,40}$` $k) }}
{{- $errs = append $errs (printf "proxy.settings: %q is not a routelib setting name" $k) }}
{{- end }}
{{- end }}
{{- if and $v.metrics.enabled (eq (int $v.metrics.port) (int $v.cache.port)) }}
{{- $errs = append $errs (printf "metrics.port: %v is also cache.port; the exporter and memcached share the pod network" $v.metrics.port) }}
{{- end }}
{{- /* Memory: a request above its limit is refused by the API server. */}}
{{- $sized := list (dict "path" "cache" "resources" $v.cache.resources "memoryMiB" $v.cache.memoryMiB "connections" $v.cache.maxConnections "threads" $v.cache.threads "readBufMemLimitMiB" $v.cache.readBufMemLimitMiB "inputs" "cache.memoryMiB, cache.maxConnections, cache.threads and cache.readBufMemLimitMiB") }}
{{- if eq $v.mode "sidecar-failover" }}
{{- $sized = append $sized (dict "path" "localCache" "resources" $v.localCache.resources "memoryMiB" $v.localCache.memoryMiB "connections" $v.localCache.maxConnections "threads" $v.localCache.threads "readBufMemLimitMiB" $v.localCache.readBufMemLimitMiB "inputs" "localCache.memoryMiB, localCache.maxConnections, localCache.threads and localCache.readBufMemLimitMiB") }}
{{- end }}
{{- if include "distributed-memcached.usesProxy" . }}
{{- $sized = append $sized (dict "path" "proxy" "resources" $v.proxy.resources "proxy" true "connections" $v.proxy.maxConnections "threads" $v.proxy.threads "readBufMemLimitMiB" $v.proxy.readBufMemLimitMiB "inputs" "proxy.maxConnections, proxy.threads and proxy.readBufMemLimitMiB") }}
{{- end }}
{{- if $v.metrics.enabled }}
{{- $sized = append $sized (dict "path" "metrics" "resources" $v.metrics.resources "fixed" true) }}
{{- end }}
{{- range $sized }}
{{- $msg := include "distributed-memcached.memory.check" . }}
{{- if $msg }}{{ $errs = append $errs $msg }}{{ end }}
{{- end }}
{{- if $errs }}
{{- fail (printf "\n\ndistributed-memcached: invalid values:\n  - %s\n" (join "\n  - " $errs)) }}
{{- end }}
{{- end }}

{{/*
The extension points (extra containers, volumes, mounts, env, lifecycle,
update strategies): lists of maps whose names do not collide with the
chart's own in the same pod. values.schema.json checks the shapes too; this
covers --skip-schema-validation and the collisions. Returns a JSON list of
messages.
*/}}
{{- define "distributed-memcached.validateExtensions" -}}
{{- $v := .Values }}
{{- $errs := list }}
{{- $label := `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$` }}
{{- $envName := `^[-._a-zA-Z][-._a-zA-Z0-9]*$` }}
{{- $isSidecar := include "distributed-memcached.isSidecarMode" . }}
{{- $lists := list
  (list "cache.extraEnv" $v.cache.extraEnv "env")
  (list "cache.extraEnvFrom" $v.cache.extraEnvFrom "envFrom")
  (list "cache.extraVolumes" $v.cache.extraVolumes "named")
  (list "cache.extraVolumeMounts" $v.cache.extraVolumeMounts "mount")
  (list "cache.sidecars" $v.cache.sidecars "container")
  (list "cache.initContainers" $v.cache.initContainers "container")
  (list "proxy.extraEnv" $v.proxy.extraEnv "env")
  (list "proxy.extraEnvFrom" $v.proxy.extraEnvFrom "envFrom")
  (list "proxy.extraVolumes" $v.proxy.extraVolumes "named")
  (list "proxy.extraVolumeMounts" $v.proxy.extraVolumeMounts "mount")
  (list "proxy.daemonset.sidecars" $v.proxy.daemonset.sidecars "container")
  (list "proxy.daemonset.initContainers" $v.proxy.daemonset.initContainers "container")
  (list "localCache.extraEnv" $v.localCache.extraEnv "env")
  (list "localCache.extraEnvFrom" $v.localCache.extraEnvFrom "envFrom")
  (list "localCache.extraVolumes" $v.localCache.extraVolumes "named")
  (list "localCache.extraVolumeMounts" $v.localCache.extraVolumeMounts "mount")
  (list "app.containers" $v.app.containers "container")
  (list "app.initContainers" $v.app.initContainers "container")
  (list "app.volumes" $v.app.volumes "named") }}
{{- range $l := $lists }}
{{- $key := index $l 0 }}
{{- $items := index $l 1 }}
{{- $kind := index $l 2 }}
{{- if and $items (not (kindIs "slice" $items)) }}
{{- $errs = append $errs (printf "%s: must be a list" $key) }}
{{- else }}
{{- range $i, $item := $items }}
{{- if not (kindIs "map" $item) }}
{{- $errs = append $errs (printf "%s[%d]: must be a map" $key $i) }}
{{- else if eq $kind "env" }}
{{- if not (regexMatch $envName (toString (default "" $item.name))) }}
{{- $errs = append $errs (printf "%s[%d].name: %q is not an environment variable name (letters, digits, '_', '-', '.', not starting with a digit)" $key $i (toString (default "" $item.name))) }}
{{- end }}
{{- if and (hasKey $item "value") (not (kindIs "string" $item.value)) }}
{{- $errs = append $errs (printf "%s[%d].value: environment values are strings; quote %v" $key $i $item.value) }}
{{- end }}
{{- else if eq $kind "envFrom" }}
{{- if not (or $item.configMapRef $item.secretRef) }}
{{- $errs = append $errs (printf "%s[%d]: needs configMapRef or secretRef" $key $i) }}
{{- end }}
{{- else if eq $kind "mount" }}
{{- if not (regexMatch $label (toString (default "" $item.name))) }}
{{- $errs = append $errs (printf "%s[%d].name: %q is not a volume name (a DNS-1123 label)" $key $i (toString (default "" $item.name))) }}
{{- end }}
{{- if not (regexMatch `^/[^\n\r\x00]*$` (toString (default "" $item.mountPath))) }}
{{- $errs = append $errs (printf "%s[%d].mountPath: %q is not an absolute path" $key $i (toString (default "" $item.mountPath))) }}
{{- end }}
{{- else }}
{{- if or (gt (len (toString (default "" $item.name))) 63) (not (regexMatch $label (toString (default "" $item.name)))) }}
{{- $errs = append $errs (printf "%s[%d].name: %q is not a DNS-1123 label" $key $i (toString (default "" $item.name))) }}
{{- end }}
{{- if and (eq $kind "container") (not $item.image) }}
{{- $errs = append $errs (printf "%s[%d].image: required" $key $i) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- /* Names that share a pod must be unique, and not the chart's own. */}}
{{- $pods := list
  (list "cache pods" (list "memcached" "exporter") (list "cache.sidecars" "cache.initContainers") (list) (list "cache.extraVolumes"))
  (list "proxy pods" (list "memcached-proxy") (list "proxy.daemonset.sidecars" "proxy.daemonset.initContainers") (list "memcached-proxy-config") (list "proxy.extraVolumes"))
  (list "app pods" (ternary (list "memcached-proxy" "memcached-local") (list "memcached-proxy") (eq $v.mode "sidecar-failover")) (list "app.containers" "app.initContainers") (list "memcached-proxy-config") (ternary (list "proxy.extraVolumes" "localCache.extraVolumes" "app.volumes") (list "proxy.extraVolumes" "app.volumes") (eq $v.mode "sidecar-failover"))) }}
{{- $byKey := dict }}
{{- range $l := $lists }}{{ $_ := set $byKey (index $l 0) (index $l 1) }}{{ end }}
{{- $podsHere := list }}
{{- if $v.cache.enabled }}{{ $podsHere = append $podsHere "cache pods" }}{{ end }}
{{- if has $v.mode (list "daemonset" "replicated-sharded") }}{{ $podsHere = append $podsHere "proxy pods" }}{{ end }}
{{- if $isSidecar }}{{ $podsHere = append $podsHere "app pods" }}{{ end }}
{{- range $p := $pods }}
{{- if has (index $p 0) $podsHere }}
{{- range $what := list (list "container" (index $p 1) (index $p 2)) (list "volume" (index $p 3) (index $p 4)) }}
{{- $seen := dict }}
{{- range (index $what 1) }}{{ $_ := set $seen . "the chart" }}{{ end }}
{{- range $key := index $what 2 }}
{{- $items := index $byKey $key }}
{{- if kindIs "slice" $items }}
{{- range $items }}
{{- if kindIs "map" . }}
{{- $n := toString (default "" .name) }}
{{- if and $n (hasKey $seen $n) }}
{{- $errs = append $errs (printf "%s: %s name %q is already used in the %s by %s; pick another name" $key (index $what 0) $n (index $p 0) (index $seen $n)) }}
{{- else if $n }}
{{- $_ := set $seen $n $key }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- range $key, $l := dict "cache.lifecycle" $v.cache.lifecycle "proxy.lifecycle" $v.proxy.lifecycle "localCache.lifecycle" $v.localCache.lifecycle }}
{{- if and $l (not (kindIs "map" $l)) }}
{{- $errs = append $errs (printf "%s: must be a map (postStart, preStop)" $key) }}
{{- end }}
{{- end }}
{{- $ds := $v.proxy.daemonset }}
{{- if and (has $v.mode (list "daemonset" "replicated-sharded")) (not $v.proxy.lifecycle) (ge (int $ds.drainSeconds) (int $ds.terminationGracePeriodSeconds)) (gt (int $ds.drainSeconds) 0) }}
{{- $errs = append $errs (printf "proxy.daemonset.drainSeconds: %v is not below proxy.daemonset.terminationGracePeriodSeconds (%v), so the proxy is killed before the drain ends; raise terminationGracePeriodSeconds or lower drainSeconds" $ds.drainSeconds $ds.terminationGracePeriodSeconds) }}
{{- end }}
{{- if and (eq (toString $ds.maxUnavailable) "0") (eq (toString $ds.maxSurge) "0") }}
{{- $errs = append $errs "proxy.daemonset.maxUnavailable: 0 together with maxSurge 0 would never update a proxy pod; set one of them (e.g. maxUnavailable: 0, maxSurge: 1)" }}
{{- end }}
{{- $strategies := list (list "cache.updateStrategy" $v.cache.updateStrategy (list "RollingUpdate" "OnDelete")) (list "proxy.daemonset.updateStrategy" $ds.updateStrategy (list "RollingUpdate" "OnDelete")) (list "app.updateStrategy" $v.app.updateStrategy (list "RollingUpdate" "Recreate")) }}
{{- range $strategies }}
{{- $t := dig "type" "" (ternary (index . 1) (dict) (kindIs "map" (index . 1))) }}
{{- if not (has $t (index . 2)) }}
{{- $errs = append $errs (printf "%s.type: %q is not one of %s" (index . 0) (toString $t) (join ", " (index . 2))) }}
{{- end }}
{{- end }}
{{- $np := default (dict) $v.networkPolicy }}
{{- range $key, $list := dict "networkPolicy.allowFrom" $np.allowFrom "networkPolicy.cache.allowFrom" (dig "cache" "allowFrom" list $np) "networkPolicy.metrics.allowFrom" (dig "metrics" "allowFrom" list $np) "networkPolicy.dnsTo" $np.dnsTo }}
{{- if and $list (not (kindIs "slice" $list)) }}
{{- $errs = append $errs (printf "%s: must be a list of NetworkPolicy peers" $key) }}
{{- else }}
{{- range $i, $peer := $list }}
{{- if or (not (kindIs "map" $peer)) (not $peer) }}
{{- $errs = append $errs (printf "%s[%d]: must be a peer: podSelector, namespaceSelector (both: pods in those namespaces) or ipBlock" $key $i) }}
{{- else }}
{{- range $k, $_ := $peer }}
{{- if not (has $k (list "podSelector" "namespaceSelector" "ipBlock")) }}
{{- $errs = append $errs (printf "%s[%d].%s: not a peer field; use podSelector, namespaceSelector or ipBlock" $key $i $k) }}
{{- end }}
{{- end }}
{{- if and (hasKey $peer "ipBlock") (or (hasKey $peer "podSelector") (hasKey $peer "namespaceSelector")) }}
{{- $errs = append $errs (printf "%s[%d]: ipBlock cannot be combined with a selector; give it its own entry" $key $i) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- with $v.proxy.tls }}
{{- if .enabled }}
{{- if not (has $v.mode (list "daemonset" "replicated-sharded")) }}
{{- $errs = append $errs (printf "proxy.tls.enabled: mode %s reaches the proxy on 127.0.0.1 inside the pod (or runs none), so there is no listener to encrypt; TLS is offered in daemonset and replicated-sharded modes" $v.mode) }}
{{- end }}
{{- if not .secretName }}
{{- $errs = append $errs "proxy.tls.secretName: required when proxy.tls.enabled is true; name a kubernetes.io/tls Secret with tls.crt and tls.key (e.g. the secretName of a cert-manager Certificate)" }}
{{- end }}
{{- if not (has (toString .verifyClient) (list "none" "request" "require" "once")) }}
{{- $errs = append $errs (printf "proxy.tls.verifyClient: %q is not one of none, request, require, once" (toString .verifyClient)) }}
{{- end }}
{{- if and (eq (toString .verifyClient) "require") (not $v.tests.tls.secretName) }}
{{- $errs = append $errs "tests.tls.secretName: required when proxy.tls.verifyClient is require, or the helm test pod is refused; name a kubernetes.io/tls Secret with a client certificate signed by proxy.tls.clientCA" }}
{{- end }}
{{- end }}
{{- end }}
{{- range $i, $m := $v.extraDeploy }}
{{- if not (or (kindIs "map" $m) (kindIs "string" $m)) }}
{{- $errs = append $errs (printf "extraDeploy[%d]: must be a manifest (a map) or a YAML string" $i) }}
{{- end }}
{{- end }}
{{- toJson $errs }}
{{- end }}
