{{/*
Checks every value that could produce a broken release, collects all
problems and fails once with the full list. values.schema.json rejects most
of these first; this keeps `--skip-schema-validation` and cross-field rules
covered too.
*/}}
{{- define "distributed-memcached.validateValues" -}}
{{- $v := .Values }}
{{- $errs := list }}
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
{{- if eq $v.mode "replicated-sharded" }}
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
{{- if $errs }}
{{- fail (printf "\n\ndistributed-memcached: invalid values:\n  - %s\n" (join "\n  - " $errs)) }}
{{- end }}
{{- end }}
