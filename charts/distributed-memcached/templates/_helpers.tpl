{{/*
Names, labels and shared helpers.
*/}}

{{/* Chart name, overridable with nameOverride. */}}
{{- define "distributed-memcached.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name, at most 63 characters (the DNS label limit).
If the release name already contains the chart name it is used as is.
*/}}
{{- define "distributed-memcached.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Chart name and version for the helm.sh/chart label. */}}
{{- define "distributed-memcached.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels. Takes (dict "ctx" $ "component" "cache" ["pod" true]). Pod
templates ("pod" true) leave out helm.sh/chart: it changes with every chart
version, and a changed pod template restarts the pods, which empties cache
pods.
*/}}
{{- define "distributed-memcached.labels" -}}
{{- $ctx := .ctx -}}
{{- if not .pod -}}
helm.sh/chart: {{ include "distributed-memcached.chart" $ctx | quote }}
{{ end -}}
{{ include "distributed-memcached.selectorLabels" . }}
app.kubernetes.io/version: {{ $ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $ctx.Release.Service | quote }}
app.kubernetes.io/part-of: {{ include "distributed-memcached.name" $ctx | quote }}
{{- with $ctx.Values.commonLabels }}
{{ include "distributed-memcached.stringMap" . }}
{{- end }}
{{- end }}

{{/*
Selector labels. The component is part of them so each Service and
workload selects only its own pods. Takes (dict "ctx" $ "component" "cache").
*/}}
{{- define "distributed-memcached.selectorLabels" -}}
app.kubernetes.io/name: {{ include "distributed-memcached.name" .ctx | quote }}
app.kubernetes.io/instance: {{ .ctx.Release.Name | quote }}
app.kubernetes.io/component: {{ .component | quote }}
{{- end }}

{{/* ServiceAccount name. */}}
{{- define "distributed-memcached.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "distributed-memcached.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Namespace of every object: namespaceOverride, else the release namespace. */}}
{{- define "distributed-memcached.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride }}
{{- end }}

{{/* Image reference of memcached. */}}
{{- define "distributed-memcached.image" -}}
{{- include "distributed-memcached.imageRef" (dict "image" .Values.image "defaultTag" .Chart.AppVersion "global" .Values.global) }}
{{- end }}

{{/*
An image reference `[registry/]repository:tag`, or `[registry/]repository@digest`
when a digest is given. The registry is global.imageRegistry when set, else the
image's own registry. Takes (dict "image" <registry, repository, tag, digest>
["defaultTag" t] ["global" .Values.global]).
*/}}
{{- define "distributed-memcached.imageRef" -}}
{{- $i := .image }}
{{- $registry := toString (default (toString (default "" $i.registry)) (dig "imageRegistry" "" (default (dict) .global))) }}
{{- $repository := toString $i.repository }}
{{- if $registry }}{{ $repository = printf "%s/%s" $registry $repository }}{{ end }}
{{- if $i.digest }}
{{- printf "%s@%s" $repository (toString $i.digest) }}
{{- else }}
{{- printf "%s:%s" $repository (toString (default .defaultTag $i.tag)) }}
{{- end }}
{{- end }}

{{/*
imagePullSecrets of every pod: global.imagePullSecrets, then imagePullSecrets,
each a name or {name: ...}, duplicates dropped. Empty when there are none.
*/}}
{{- define "distributed-memcached.imagePullSecrets" -}}
{{- $names := list }}
{{- range concat (dig "imagePullSecrets" list (default (dict) .Values.global)) (default list .Values.imagePullSecrets) }}
{{- $n := "" }}
{{- if kindIs "string" . }}{{ $n = . }}{{ else if kindIs "map" . }}{{ $n = toString (default "" .name) }}{{ end }}
{{- if and $n (not (has $n $names)) }}{{ $names = append $names $n }}{{ end }}
{{- end }}
{{- if $names -}}
imagePullSecrets:
{{- range $names }}
  - name: {{ . | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The metadata annotations of an object: commonAnnotations, then the object's
own (which win). Writes `annotations:` and the map, or nothing.
Takes (dict "ctx" $ ["annotations" map]).
*/}}
{{- define "distributed-memcached.annotations" -}}
{{- $all := merge (deepCopy (default (dict) .annotations)) (deepCopy (default (dict) .ctx.Values.commonAnnotations)) }}
{{- if $all -}}
annotations:
  {{- include "distributed-memcached.stringMap" $all | nindent 2 }}
{{- end }}
{{- end }}

{{/*
`env` and `envFrom` of a chart container from its values' extraEnv and
extraEnvFrom, or nothing. Takes the values map (e.g. .Values.cache).
*/}}
{{- define "distributed-memcached.containerExtras" -}}
{{- with .extraEnv }}
env:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .extraEnvFrom }}
envFrom:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
nodeSelector, tolerations and affinity of a workload: its own when set, else
the top-level ones. Takes (dict "ctx" $ "nodeSelector" m "tolerations" l
"affinity" m); writes the pod spec fields that are not empty.
*/}}
{{- define "distributed-memcached.scheduling" -}}
{{- $v := .ctx.Values }}
{{- $affinity := default $v.affinity .affinity }}
{{- if .zone }}
{{- $affinity = include "distributed-memcached.pinToZone" (dict "affinity" $affinity "zone" .zone "label" $v.cache.zoneLabel) | fromYaml }}
{{- end }}
{{- with $affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (default $v.nodeSelector .nodeSelector) }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (default $v.tolerations .tolerations) }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Object names. StatefulSet names stay within 52 characters so the controller-revision-hash label fits. */}}
{{- define "distributed-memcached.cache.serviceName" -}}
{{- include "distributed-memcached.fullname" . }}
{{- end }}

{{- define "distributed-memcached.proxy.name" -}}
{{- printf "%s-proxy" (include "distributed-memcached.fullname" . | trunc 57 | trimSuffix "-") }}
{{- end }}

{{- define "distributed-memcached.proxy.configMapName" -}}
{{- printf "%s-proxy-config" (include "distributed-memcached.fullname" . | trunc 50 | trimSuffix "-") }}
{{- end }}

{{/*
A per-zone object name: base, or base-zone with base shortened so the
whole stays within max characters. Takes (dict "base" name "zone" z "max" n).
*/}}
{{- define "distributed-memcached.zoneName" -}}
{{- if .zone -}}
{{- printf "%s-%s" (.base | trunc (int (sub (sub (int .max) 1) (len .zone))) | trimSuffix "-") .zone }}
{{- else -}}
{{- .base }}
{{- end }}
{{- end }}

{{/*
The shard count a migration reads from (cache.migration.fromReplicas), or
nothing when no migration is configured or the mode has no sharded pool.
*/}}
{{- define "distributed-memcached.migrationFrom" -}}
{{- $from := int .Values.cache.migration.fromReplicas }}
{{- if and (gt $from 0) (has .Values.mode (list "daemonset" "sidecar-failover" "replicated-sharded")) }}{{ $from }}{{ end }}
{{- end }}

{{/* Pods per cache StatefulSet: replicas, or more while a migration still reads the old pods. */}}
{{- define "distributed-memcached.cache.podCount" -}}
{{- $n := int .Values.cache.replicas }}
{{- with include "distributed-memcached.migrationFrom" . }}{{ $n = max $n (int .) }}{{ end }}
{{- $n }}
{{- end }}

{{/* Non-empty when cache.zones puts one copy in each zone (replicated-sharded mode). */}}
{{- define "distributed-memcached.zoned" -}}
{{- if and (eq .Values.mode "replicated-sharded") .Values.cache.zones }}true{{ end }}
{{- end }}

{{/*
The zones proxies run in, as a JSON list: cache.zones when zoned, else one
unnamed zone ("") so templates render one DaemonSet and one ConfigMap.
*/}}
{{- define "distributed-memcached.proxy.zones" -}}
{{- if include "distributed-memcached.zoned" . }}
{{- toJson .Values.cache.zones }}
{{- else }}
{{- toJson (list "") }}
{{- end }}
{{- end }}

{{/*
Affinity pinned to one zone: a required node affinity term on the zone label,
added to every required term the given affinity has (terms are alternatives,
so each must carry it). Takes (dict "affinity" map "zone" z "label" key).
*/}}
{{- define "distributed-memcached.pinToZone" -}}
{{- $aff := deepCopy (default (dict) .affinity) }}
{{- $expr := dict "key" .label "operator" "In" "values" (list .zone) }}
{{- $node := deepCopy (default (dict) (get $aff "nodeAffinity")) }}
{{- $req := default (dict) (get $node "requiredDuringSchedulingIgnoredDuringExecution") }}
{{- $terms := list }}
{{- range (default (list) (get $req "nodeSelectorTerms")) }}
{{- $t := deepCopy . }}
{{- $_ := set $t "matchExpressions" (append (default (list) (get $t "matchExpressions")) $expr) }}
{{- $terms = append $terms $t }}
{{- end }}
{{- if not $terms }}{{ $terms = list (dict "matchExpressions" (list $expr)) }}{{ end }}
{{- $_ := set $req "nodeSelectorTerms" $terms }}
{{- $_ := set $node "requiredDuringSchedulingIgnoredDuringExecution" $req }}
{{- $_ := set $aff "nodeAffinity" $node }}
{{- toYaml $aff }}
{{- end }}

{{- define "distributed-memcached.app.name" -}}
{{- printf "%s-app" (include "distributed-memcached.fullname" . | trunc 59 | trimSuffix "-") }}
{{- end }}

{{/* True (non-empty) when the mode runs a memcached proxy. */}}
{{- define "distributed-memcached.usesProxy" -}}
{{- if ne .Values.mode "cache" }}true{{ end }}
{{- end }}

{{/* True (non-empty) when the mode runs the proxy as a sidecar of the app. */}}
{{- define "distributed-memcached.isSidecarMode" -}}
{{- if has .Values.mode (list "sidecar" "sidecar-failover") }}true{{ end }}
{{- end }}

{{/* True (non-empty) when this release renders cache StatefulSets. */}}
{{- define "distributed-memcached.runsCache" -}}
{{- if .Values.cache.enabled }}true{{ end }}
{{- end }}

{{/*
Names of the data copies in replicated-sharded mode, as a JSON list.
A count n becomes the first n letters; a list is used as given.
*/}}
{{- define "distributed-memcached.copyNames" -}}
{{- $copies := .Values.cache.copies }}
{{- if include "distributed-memcached.zoned" . }}
{{- toJson .Values.cache.zones }}
{{- else if kindIs "slice" $copies }}
{{- toJson $copies }}
{{- else }}
{{- $letters := splitList "" "abcdefghijklmnopqrstuvwxyz" }}
{{- $n := int $copies }}
{{- if gt $n 26 }}{{ $n = 26 }}{{ end }}
{{- if lt $n 0 }}{{ $n = 0 }}{{ end }}
{{- toJson (slice $letters 0 $n) }}
{{- end }}
{{- end }}

{{/*
The cache StatefulSets this release runs, as a JSON list of
{"name": ..., "copy": ...}; copy is "" outside replicated-sharded mode.
*/}}
{{- define "distributed-memcached.cache.statefulSets" -}}
{{- $fullname := include "distributed-memcached.fullname" . }}
{{- $sets := list }}
{{- if eq .Values.mode "replicated-sharded" }}
{{- range $copy := include "distributed-memcached.copyNames" . | fromJsonArray }}
{{- $prefix := $fullname | trunc (int (sub 51 (len (toString $copy)))) | trimSuffix "-" }}
{{- $zone := "" }}{{ if include "distributed-memcached.zoned" $ }}{{ $zone = toString $copy }}{{ end }}
{{- $sets = append $sets (dict "name" (printf "%s-%s" $prefix (toString $copy)) "copy" (toString $copy) "zone" $zone) }}
{{- end }}
{{- else }}
{{- $sets = append $sets (dict "name" ($fullname | trunc 52 | trimSuffix "-") "copy" "" "zone" "") }}
{{- end }}
{{- toJson $sets }}
{{- end }}

{{/*
Where the proxies find the cache, as JSON:
{"namespace", "serviceName", "port", "replicas", "statefulSets": [{"name", "copy"}]}.
Points at externalCache when cache.enabled is false.
*/}}
{{- define "distributed-memcached.cache.target" -}}
{{- if .Values.cache.enabled }}
{{- toJson (dict
  "namespace" (include "distributed-memcached.namespace" .)
  "serviceName" (include "distributed-memcached.cache.serviceName" .)
  "port" (int .Values.cache.port)
  "replicas" (int .Values.cache.replicas)
  "statefulSets" (include "distributed-memcached.cache.statefulSets" . | fromJsonArray)) }}
{{- else }}
{{- $ext := .Values.externalCache }}
{{- toJson (dict
  "namespace" (default (include "distributed-memcached.namespace" .) $ext.namespace)
  "serviceName" $ext.serviceName
  "port" (int $ext.port)
  "replicas" (int $ext.replicas)
  "statefulSets" (list (dict "name" $ext.statefulSetName "copy" ""))) }}
{{- end }}
{{- end }}

{{/*
Backend addresses of one cache StatefulSet in ordinal order (jump hash maps
keys to list positions, so the order must match the pod ordinals).
Takes (dict "ctx" $ "target" <cache.target> "statefulSet" <name>); returns a JSON list.
*/}}
{{- define "distributed-memcached.cache.backends" -}}
{{- $t := .target }}
{{- $out := list }}
{{- $n := int $t.replicas }}
{{- if hasKey . "replicas" }}{{ $n = int .replicas }}{{ end }}
{{- range $i := until $n }}
{{- $out = append $out (printf "%s-%d.%s.%s.svc.%s:%d" $.statefulSet $i $t.serviceName $t.namespace $.ctx.Values.clusterDomain (int $t.port)) }}
{{- end }}
{{- toJson $out }}
{{- end }}

{{/*
Memory model: the ONE place that turns item memory into container memory.
It is mclint's model (src/memcached/memory.rs), calibrated on memcached 1.6.38
by scripts/measure-memory; docs/memory-model.md gives the measurements and the
reasoning. Integer bytes throughout, so the chart and mclint agree exactly.
  cache   = (memoryMiB + 38) * (1 MiB + 4 KiB)   -m, plus the first page each of
            the other 38 slab classes takes even at the limit, plus the malloc
            header page of every 1 MiB slab page
  hash    = 8-byte buckets, doubled from 2^16 while the most items -m can hold
            (memoryMiB * 10922 96-byte chunks + 42471 in the other classes)
            exceed 1.5 per bucket; x1.5 while the last expansion runs
  conns   = connections * (1 KiB + 16 KiB read buffer), the buffers capped by
            read_buf_mem_limit when readBufMemLimitMiB is passed
  threads = threads * 192 KiB;  baseline = 4 MiB
  peak    = cache + hash + conns + threads + baseline
  request = ceil((peak - conns - 38 slab-class pages) / 1 MiB)   (MiB)
  limit   = ceil(peak / 8 MiB) * 8                                (MiB)
A proxy (with "proxy" true) holds no items: no cache and no hash table, and
each worker thread carries its own Lua VM (512 KiB), on a 4.5 MiB baseline.
Takes (dict "memoryMiB" m "connections" c "threads" t ["readBufMemLimitMiB" r] ["proxy" true]);
returns JSON {"peakMiB", "requestMiB", "limitMiB"}.
*/}}
{{- define "distributed-memcached.memory.model" -}}
{{- $MiB := 1048576 }}
{{- $otherClasses := 38 }}
{{- $pageBytes := add $MiB 4096 }}
{{- $itemsPerPage := 10922 }}
{{- $itemsInOtherClasses := 42471 }}
{{- $perConnection := 1024 }}
{{- $readBuffer := 16384 }}
{{- $perThread := 196608 }}
{{- $baseline := mul 4 $MiB }}
{{- if .proxy }}
{{- $otherClasses = 0 }}
{{- $perThread = 524288 }}
{{- $baseline = add $baseline (div $MiB 2) }}
{{- end }}
{{- $m := int64 (default 0 .memoryMiB) }}
{{- $c := int64 .connections }}
{{- $t := max 1 (int64 .threads) }}
{{- $cache := mul (add $m $otherClasses) $pageBytes }}
{{- if .proxy }}{{ $cache = 0 }}{{ end }}
{{- $items := add (mul $m $itemsPerPage) $itemsInOtherClasses }}
{{- $buckets := 65536 }}
{{- range until 16 }}
{{- if gt (mul $items 2) (mul $buckets 3) }}{{ $buckets = mul $buckets 2 }}{{ end }}
{{- end }}
{{- $hash := mul $buckets 8 }}
{{- if gt $buckets 65536 }}{{ $hash = add $hash (div $hash 2) }}{{ end }}
{{- if .proxy }}{{ $hash = 0 }}{{ end }}
{{- $buffers := mul $c $readBuffer }}
{{- with .readBufMemLimitMiB }}
{{- $perThreadBuffers := max 1 (div (div (mul (int64 .) $MiB) $t) $readBuffer) }}
{{- $buffers = min $buffers (mul $perThreadBuffers $t $readBuffer) }}
{{- end }}
{{- $conns := add (mul $c $perConnection) $buffers }}
{{- $peak := add $cache $hash $conns (mul $t $perThread) $baseline }}
{{- $steady := sub (sub $peak $conns) (mul $otherClasses $MiB) }}
{{- $request := div (add $steady (sub $MiB 1)) $MiB }}
{{- $step := mul 8 $MiB }}
{{- $limit := mul (div (add $peak (sub $step 1)) $step) 8 }}
{{- toJson (dict "peakMiB" (divf $peak $MiB) "requestMiB" $request "limitMiB" $limit) }}
{{- end }}

{{/* Derived memory request, e.g. "305Mi". Same argument as memory.model. */}}
{{- define "distributed-memcached.memory.request" -}}
{{- $m := include "distributed-memcached.memory.model" . | fromJson }}
{{- printf "%dMi" (int64 $m.requestMiB) }}
{{- end }}

{{/* Derived memory limit, e.g. "336Mi". Same argument as memory.model. */}}
{{- define "distributed-memcached.memory.limit" -}}
{{- $m := include "distributed-memcached.memory.model" . | fromJson }}
{{- printf "%dMi" (int64 $m.limitMiB) }}
{{- end }}

{{/*
Container resources with memory request/limit derived from the memory model
unless set explicitly. Takes the memory.model arguments plus "resources".
*/}}
{{- define "distributed-memcached.memory.resources" -}}
{{- $res := deepCopy (default (dict) .resources) }}
{{- $model := omit . "resources" }}
{{- $requests := deepCopy (default (dict) $res.requests) }}
{{- $limits := deepCopy (default (dict) $res.limits) }}
{{- if not $requests.memory }}
{{- $_ := set $requests "memory" (include "distributed-memcached.memory.request" $model) }}
{{- end }}
{{- if not $limits.memory }}
{{- $_ := set $limits "memory" (include "distributed-memcached.memory.limit" $model) }}
{{- end }}
{{- $_ := set $res "requests" $requests }}
{{- $_ := set $res "limits" $limits }}
{{- toYaml $res }}
{{- end }}

{{/*
A Kubernetes quantity in bytes (a float), e.g. "512Mi" -> 536870912; "" when
the text is not a quantity this chart understands.
*/}}
{{- define "distributed-memcached.quantityBytes" -}}
{{- $q := toString . }}
{{- $m := regexFindAll `^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)([KMGTPE]i|[mkMGTPE]|[eE][+]?[0-9]{1,2})?$` $q 1 }}
{{- if $m }}
{{- $num := regexReplaceAll `^([0-9]+(?:\.[0-9]*)?|\.[0-9]+).*$` $q "${1}" }}
{{- $suffix := trimPrefix $num $q }}
{{- $factors := dict "" 1.0 "m" 0.001 "k" 1e3 "M" 1e6 "G" 1e9 "T" 1e12 "P" 1e15 "E" 1e18 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 "Pi" 1125899906842624.0 "Ei" 1152921504606846976.0 }}
{{- if hasKey $factors $suffix }}
{{- mulf (float64 $num) (index $factors $suffix) }}
{{- else }}
{{- mulf (float64 $num) (float64 (printf "1%s" $suffix)) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Checks that a container's memory request is not above its limit (the API
server refuses such a pod), whether each was set or derived by the memory
model. Takes the memory.resources arguments plus "path" (the values key, e.g.
"cache"), "inputs" (the values the derived figures come from) and "fixed"
(true when nothing is derived); returns a message, or nothing.
*/}}
{{- define "distributed-memcached.memory.check" -}}
{{- $res := default (dict) .resources }}
{{- $req := dig "requests" "memory" "" $res }}
{{- $lim := dig "limits" "memory" "" $res }}
{{- $reqSet := ne (toString $req) "" }}
{{- $limSet := ne (toString $lim) "" }}
{{- if not .fixed }}
{{- $model := omit . "resources" "path" "inputs" "fixed" }}
{{- if not $reqSet }}{{ $req = include "distributed-memcached.memory.request" $model }}{{ end }}
{{- if not $limSet }}{{ $lim = include "distributed-memcached.memory.limit" $model }}{{ end }}
{{- end }}
{{- if and (ne (toString $req) "") (ne (toString $lim) "") }}
{{- $reqB := include "distributed-memcached.quantityBytes" $req }}
{{- $limB := include "distributed-memcached.quantityBytes" $lim }}
{{- $p := .path }}
{{- if not $reqB }}
{{- printf "%s.resources.requests.memory: %q is not a memory quantity; write e.g. 512Mi or 1Gi" $p (toString $req) }}
{{- else if not $limB }}
{{- printf "%s.resources.limits.memory: %q is not a memory quantity; write e.g. 512Mi or 1Gi" $p (toString $lim) }}
{{- else if gt (float64 $reqB) (float64 $limB) }}
{{- $reqFrom := ternary (printf "set in %s.resources.requests.memory" $p) (printf "derived from %s" .inputs) $reqSet }}
{{- $limFrom := ternary (printf "set in %s.resources.limits.memory" $p) (printf "derived from %s" .inputs) $limSet }}
{{- $fix := list }}
{{- if $limSet }}
{{- $fix = append $fix (printf "raise %s.resources.limits.memory to at least %v" $p $req) }}
{{- if not .fixed }}{{ $fix = append $fix (printf "remove %s.resources.limits.memory to use the derived limit (%s)" $p (include "distributed-memcached.memory.limit" (omit . "resources" "path" "inputs" "fixed"))) }}{{ end }}
{{- else }}
{{- $fix = append $fix (printf "set %s.resources.limits.memory to at least %v" $p $req) }}
{{- end }}
{{- if $reqSet }}
{{- $fix = append $fix (printf "lower %s.resources.requests.memory to at most %v" $p $lim) }}
{{- else }}
{{- $fix = append $fix (printf "set %s.resources.requests.memory to at most %v" $p $lim) }}
{{- if hasKey . "memoryMiB" }}{{ $fix = append $fix (printf "lower %s.memoryMiB (now %v)" $p .memoryMiB) }}{{ end }}
{{- end }}
{{- printf "%s.resources: the memory request %v (%s) is above the memory limit %v (%s), which the API server refuses; %s" $p $req $reqFrom $lim $limFrom (join ", or " $fix) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
A map of strings (labels, annotations) as YAML, keys sorted, every key and
value double-quoted with Go's escapes (which YAML reads back): unlike toYaml,
this keeps U+0085, which YAML 1.1 readers fold into a space when written raw.
*/}}
{{- define "distributed-memcached.stringMap" -}}
{{- $lines := list }}
{{- range $k, $v := . }}
{{- $lines = append $lines (printf "%s: %s" ($k | quote) (toString $v | quote)) }}
{{- end }}
{{- join "\n" $lines }}
{{- end }}

{{/*
A Lua 5.4 string literal for any string: printable ASCII stays as it is
except `\` and `"`, which are escaped; control characters become `\ddd`
and every byte of a non-ASCII character `\xXX` (Lua 5.4 reads both), so the
literal is plain ASCII: nothing in it can end the string, start a comment,
or break the YAML block scalar the config is rendered into (U+0085, U+2028
and U+2029 are line breaks to some YAML readers).
*/}}
{{- define "distributed-memcached.luaString" -}}
{{- $s := toString . }}
{{- if regexMatch `^[ !#-\[\]-~]*$` $s }}
{{- printf `"%s"` $s }}
{{- else }}
{{- $out := list }}
{{- range $c := splitList "" $s }}
{{- if regexMatch `^[ !#-\[\]-~]$` $c }}
{{- $out = append $out $c }}
{{- else if eq $c `\` }}
{{- $out = append $out `\\` }}
{{- else if eq $c `"` }}
{{- $out = append $out `\"` }}
{{- else if regexMatch `^[\x00-\x1f\x7f]$` $c }}
{{- $out = append $out (printf `\%03d` (index (include "distributed-memcached.controlCodes" $c | fromJson) "code" | int)) }}
{{- else }}
{{- $out = append $out (regexReplaceAll `([0-9a-f]{2})` (printf "%x" $c) `\x${1}`) }}
{{- end }}
{{- end }}
{{- printf `"%s"` (join "" $out) }}
{{- end }}
{{- end }}

{{/* The code (0-31 or 127) of one control character, as JSON {"code": n}. */}}
{{- define "distributed-memcached.controlCodes" -}}
{{- $code := 127 }}
{{- range $i := until 32 }}
{{- if eq (printf "%c" $i) $ }}{{ $code = $i }}{{ end }}
{{- end }}
{{- toJson (dict "code" $code) }}
{{- end }}

{{/* A Lua table key: a bare name when it is one (and no Lua keyword), else ["..."]. */}}
{{- define "distributed-memcached.luaKey" -}}
{{- $k := toString . }}
{{- $keywords := list "and" "break" "do" "else" "elseif" "end" "false" "for" "function" "goto" "if" "in" "local" "nil" "not" "or" "repeat" "return" "then" "true" "until" "while" }}
{{- if and (regexMatch `^[A-Za-z_][A-Za-z0-9_]*$` $k) (not (has $k $keywords)) }}
{{- $k }}
{{- else }}
{{- printf "[%s]" (include "distributed-memcached.luaString" $k) }}
{{- end }}
{{- end }}

{{/* A value written as a Lua literal: booleans and numbers bare, strings through luaString. */}}
{{- define "distributed-memcached.luaValue" -}}
{{- if kindIs "bool" . }}{{ ternary "true" "false" . }}
{{- else if or (kindIs "float64" .) (kindIs "int" .) (kindIs "int64" .) }}
{{- if eq (float64 .) (floor .) }}{{ printf "%d" (int64 .) }}{{ else }}{{ printf "%v" . }}{{ end }}
{{- else }}{{ include "distributed-memcached.luaString" . }}
{{- end }}
{{- end }}

{{/*
Pod annotation that rolls proxy pods when the proxy config (the ConfigMap's
data, not its labels or annotations) changes.
*/}}
{{- define "distributed-memcached.proxy.checksum" -}}
{{- include "distributed-memcached.proxy.checksumFor" (dict "ctx" . "zone" "") }}
{{- end }}

{{/* The checksum of one zone's proxy ConfigMap data. Takes (dict "ctx" $ "zone" z). */}}
{{- define "distributed-memcached.proxy.checksumFor" -}}
{{- /* The trailing newline ends the last block scalar as in the rendered file. */ -}}
{{- $cm := printf "%s\n" (include "distributed-memcached.proxy.configMap" .) | fromYaml -}}
checksum/config: {{ get $cm "data" | toJson | sha256sum | quote }}
{{- end }}
