#!/usr/bin/env python3
"""Writes the schema agreement corpus: tests/corpus/valid/*.yaml (objects valid
under the strict Kubernetes 1.37 schemas) and tests/corpus/invalid/*.yaml (one
mistake each), one document per file.

Deterministic (no randomness): rerunning rewrites the same files. Only the
standard library is used; YAML is written by hand so that each file shows the
mistake as a chart author would type it.

    python3 tests/corpus/generate.py
"""

import itertools
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))

NAMES = ["memcached", "memcached-proxy", "cache", "sessions", "routelib", "mc-a", "mc-b", "edge"]
QUANTITIES_MEM = ["64Mi", "400Mi", "1Gi", "1.5Gi", "512M", "1e9", "2G", "300000Ki", "1000000000", "128974848"]
QUANTITIES_CPU = ["100m", "0.5", "1", "250m", "2", "1.5", "500m", "0.1", "1e-1", "10m"]
IMAGES = ["memcached:1.6.38", "memcached:1.6.38-alpine", "registry.local/memcached@sha256:" + "a" * 64]


def container(name="memcached", mem="400Mi", cpu="100m", port=11211, probe_port="memcache", extra=""):
    return f"""        - name: {name}
          image: memcached:1.6.38
          args: ["-m", "400", "-c", "1024"]
          ports:
            - name: memcache
              containerPort: {port}
              protocol: TCP
          readinessProbe:
            tcpSocket:
              port: {probe_port}
            periodSeconds: 5
          resources:
            requests:
              cpu: {cpu}
              memory: {mem}
            limits:
              memory: {mem}
{extra}"""


def pod_template(app, **kw):
    return f"""  template:
    metadata:
      labels:
        app: {app}
    spec:
      containers:
{container(**kw)}"""


def statefulset(name, replicas=3, **kw):
    return f"""apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {name}
  labels:
    app.kubernetes.io/name: {name}
spec:
  replicas: {replicas}
  serviceName: {name}
  podManagementPolicy: Parallel
  selector:
    matchLabels:
      app: {name}
{pod_template(name, **kw)}"""


def deployment(name, replicas=2, surge="25%", **kw):
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: {surge}
      maxUnavailable: 0
  selector:
    matchLabels:
      app: {name}
{pod_template(name, **kw)}"""


def daemonset(name, **kw):
    return f"""apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: {name}
  namespace: cache
spec:
  selector:
    matchLabels:
      app: {name}
  updateStrategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 1
{pod_template(name, **kw)}"""


def replicaset(name, **kw):
    return f"""apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: {name}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: {name}
{pod_template(name, **kw)}"""


def service(name, headless=True, target="memcache", svc_type=None):
    cluster_ip = "  clusterIP: None\n" if headless else ""
    typ = f"  type: {svc_type}\n" if svc_type else ""
    return f"""apiVersion: v1
kind: Service
metadata:
  name: {name}
  annotations:
    prometheus.io/scrape: "true"
spec:
{cluster_ip}{typ}  selector:
    app: {name}
  ports:
    - name: memcache
      port: 11211
      targetPort: {target}
"""


def configmap(name, i):
    return f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-config-{i}
data:
  proxy.lua: |
    pools{{ main = {{ backends = {{ "{name}-0:11211" }} }} }}
  replicas: "{i}"
"""


def secret(name, i):
    return f"""apiVersion: v1
kind: Secret
metadata:
  name: {name}-auth-{i}
type: Opaque
data:
  password: cGFzc3dvcmQ=
stringData:
  user: cache-{i}
"""


def service_account(name):
    return f"""apiVersion: v1
kind: ServiceAccount
metadata:
  name: {name}
automountServiceAccountToken: false
"""


def pdb(name, min_available):
    return f"""apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {name}
spec:
  minAvailable: {min_available}
  selector:
    matchLabels:
      app: {name}
"""


def network_policy(name, port):
    return f"""apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {name}
spec:
  podSelector:
    matchLabels:
      app: {name}
  policyTypes: [Ingress]
  ingress:
    - from:
        - podSelector:
            matchLabels:
              app: {name}-client
      ports:
        - protocol: TCP
          port: {port}
"""


def pod(name, **kw):
    return f"""apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  restartPolicy: Never
  containers:
{container(**kw)}"""


def job(name, **kw):
    return f"""apiVersion: batch/v1
kind: Job
metadata:
  name: {name}-warmup
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: OnFailure
      containers:
{container(**kw)}"""


def cronjob(name, schedule):
    return f"""apiVersion: batch/v1
kind: CronJob
metadata:
  name: {name}-flush
spec:
  schedule: "{schedule}"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: flush
              image: busybox:1.36
              command: ["sh", "-c", "echo flush_all | nc {name} 11211"]
"""


def hpa(name, target):
    return f"""apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {name}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {name}
  minReplicas: 2
  maxReplicas: 10
  metrics:
    - type: Resource
      resource:
        name: memory
        target:
          type: AverageValue
          averageValue: {target}
"""


def ingress(name, port):
    port_field = f"number: {port}" if isinstance(port, int) else f"name: {port}"
    return f"""apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {name}
spec:
  ingressClassName: nginx
  rules:
    - host: {name}.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: {name}
                port:
                  {port_field}
"""


def role(name):
    return f"""apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {name}
rules:
  - apiGroups: [""]
    resources: [endpoints, pods]
    verbs: [get, list, watch]
"""


def role_binding(name):
    return f"""apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {name}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {name}
subjects:
  - kind: ServiceAccount
    name: {name}
    namespace: cache
"""


def lease(name):
    return f"""apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: {name}-leader
spec:
  holderIdentity: {name}-0
  leaseDurationSeconds: 15
"""


def pvc(name, size):
    return f"""apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {name}-data
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: {size}
"""


def valid_documents():
    docs = []
    for i, (name, mem, cpu) in enumerate(zip(itertools.cycle(NAMES), QUANTITIES_MEM * 2, QUANTITIES_CPU * 2)):
        probe = "memcache" if i % 2 else 11211
        docs.append((f"statefulset-{i:02}", statefulset(f"{name}-{i}", replicas=i % 5 + 1, mem=mem, cpu=cpu, probe_port=probe)))
        docs.append((f"deployment-{i:02}", deployment(f"{name}-{i}", surge=["25%", 1, "1", 0][i % 4], mem=mem, cpu=cpu)))
    for i, (name, mem) in enumerate(zip(NAMES, QUANTITIES_MEM)):
        docs.append((f"daemonset-{i:02}", daemonset(name, mem=mem)))
        docs.append((f"replicaset-{i:02}", replicaset(name, mem=mem)))
        docs.append((f"pod-{i:02}", pod(name, mem=mem, cpu=QUANTITIES_CPU[i])))
        docs.append((f"job-{i:02}", job(name, mem=mem)))
    for i, name in enumerate(NAMES):
        docs.append((f"service-headless-{i:02}", service(name, headless=True, target=["memcache", 11211][i % 2])))
        docs.append((f"service-clusterip-{i:02}", service(name, headless=False, target=11211 + i)))
        docs.append((f"service-nodeport-{i:02}", service(name, headless=False, svc_type="NodePort")))
        docs.append((f"serviceaccount-{i:02}", service_account(name)))
        docs.append((f"pdb-{i:02}", pdb(name, [1, "50%", 2, "1"][i % 4])))
        docs.append((f"networkpolicy-{i:02}", network_policy(name, [11211, "memcache"][i % 2])))
        docs.append((f"cronjob-{i:02}", cronjob(name, f"*/{i + 5} * * * *")))
        docs.append((f"hpa-{i:02}", hpa(name, QUANTITIES_MEM[i])))
        docs.append((f"ingress-{i:02}", ingress(name, [11211, "memcache"][i % 2])))
        docs.append((f"role-{i:02}", role(name)))
        docs.append((f"rolebinding-{i:02}", role_binding(name)))
        docs.append((f"lease-{i:02}", lease(name)))
        docs.append((f"pvc-{i:02}", pvc(name, QUANTITIES_MEM[i])))
        for j in range(3):
            docs.append((f"configmap-{i:02}-{j}", configmap(name, j)))
            docs.append((f"secret-{i:02}-{j}", secret(name, j)))
    return docs


def replace_once(text, old, new):
    assert old in text, (old, text)
    return text.replace(old, new, 1)


def invalid_documents():
    sts = statefulset("memcached")
    dep = deployment("memcached-proxy")
    svc = service("memcached")
    p = pdb("memcached", 1)
    docs = []

    def add(name, base, old, new):
        docs.append((name, replace_once(base, old, new)))

    # Unknown fields (typos) at various depths.
    add("typo-root-specs", sts, "\nspec:\n", "\nspecs:\n")
    add("typo-metadata-label", sts, "  labels:\n    app.kubernetes.io", "  label:\n    app.kubernetes.io")
    add("typo-spec-replica", sts, "  replicas: 3", "  replica: 3")
    add("typo-servicename", sts, "  serviceName:", "  servicename:")
    add("typo-selector-matchlabel", sts, "    matchLabels:\n      app: memcached\n  template", "    matchLabel:\n      app: memcached\n  template")
    add("typo-template-metadata-label", sts, "    metadata:\n      labels:", "    metadata:\n      label:")
    add("typo-container-livenessprobes", sts, "          readinessProbe:", "          livenessProbes:")
    add("typo-container-imagepullpolicy", sts, "          image: memcached:1.6.38", "          image: memcached:1.6.38\n          imagePullPolicyy: Always")
    add("typo-port-containerport", sts, "containerPort: 11211", "containerport: 11211")
    add("typo-resources-limit", sts, "            limits:", "            limit:")
    add("typo-resources-request", sts, "            requests:", "            request:")
    add("typo-probe-tcpsocket", sts, "            tcpSocket:", "            tcpsocket:")
    add("typo-probe-period", sts, "periodSeconds: 5", "periodSecond: 5")
    add("typo-podspec-container", sts, "      containers:", "      container:")
    add("typo-deploy-strategy-rolling", dep, "    rollingUpdate:", "    rollingupdate:")
    add("typo-deploy-maxsurge", dep, "      maxSurge:", "      maxSurges:")
    add("typo-service-port", svc, "  ports:", "  port:")
    add("typo-service-targetport", svc, "      targetPort:", "      targetport:")
    add("typo-service-clusterip", svc, "  clusterIP:", "  clusterIp:")
    add("typo-pdb-minavailable", p, "  minAvailable:", "  minAvailble:")
    add("typo-configmap-datas", configmap("memcached", 0), "\ndata:", "\ndatas:")
    add("typo-networkpolicy-podselector", network_policy("memcached", 11211), "  podSelector:", "  podselector:")
    add("typo-cronjob-jobtemplate", cronjob("memcached", "*/5 * * * *"), "  jobTemplate:", "  jobtemplate:")
    add("typo-hpa-minreplica", hpa("memcached", "400Mi"), "  minReplicas:", "  minReplica:")
    add("typo-ingress-pathtype", ingress("memcached", 11211), "pathType:", "pathtype:")
    add("typo-role-verb", role("memcached"), "    verbs:", "    verb:")

    # Wrong types.
    add("type-replicas-string", sts, "  replicas: 3", '  replicas: "3"')
    add("type-replicas-float", sts, "  replicas: 3", "  replicas: 2.5")
    add("type-containerport-string", sts, "containerPort: 11211", 'containerPort: "11211"')
    add("type-label-value-int", sts, "    app.kubernetes.io/name: memcached", "    tier: 1")
    add("type-args-string", sts, '          args: ["-m", "400", "-c", "1024"]', '          args: "-m 400"')
    add("type-args-int-item", sts, '          args: ["-m", "400", "-c", "1024"]', '          args: ["-m", 400]')
    add("type-containers-mapping", pod("memcached"), "  containers:\n        - name: memcached", "  containers:\n          name: memcached")
    add("type-hostnetwork-string", sts, "    spec:\n      containers:", '    spec:\n      hostNetwork: "true"\n      containers:')
    add("type-selector-list", sts, "  selector:\n    matchLabels:\n      app: memcached\n  template", "  selector:\n    - app: memcached\n  template")
    add("type-configmap-data-int", configmap("memcached", 0), '  replicas: "0"', "  replicas: 0")
    add("type-service-port-string", svc, "      port: 11211", '      port: "11211"')
    add("type-period-bool", sts, "periodSeconds: 5", "periodSeconds: true")

    # Bad quantities.
    for i, q in enumerate(["400MB", "1GB", "2 Gi", "1.5.0", "100mb", "lots", "1gi", "0x10"]):
        add(f"quantity-memory-{i}", sts, "              memory: 400Mi\n            limits", f'              memory: "{q}"\n            limits')
    add("quantity-cpu-bool", sts, "              cpu: 100m", "              cpu: true")
    add("quantity-storage-list", pvc("memcached", "1Gi"), "      storage: 1Gi", "      storage: [1Gi]")

    # Missing names and required fields.
    add("missing-metadata-name", configmap("memcached", 0), "  name: memcached-config-0\n", "  labels: {app: memcached}\n")
    add("missing-metadata", service_account("memcached"), "metadata:\n  name: memcached\n", "")
    add("missing-metadata-name-sts", sts, "  name: memcached\n  labels", "  labels")
    add("missing-container-name", sts, "        - name: memcached\n", "        - imagePullPolicy: Always\n")
    add("missing-sts-selector", sts, "  selector:\n    matchLabels:\n      app: memcached\n  template", "  template")
    add("missing-containerport", sts, "              containerPort: 11211\n", "")
    add("missing-service-port", svc, "    - name: memcache\n      port: 11211\n", "    - name: memcache\n")
    add("missing-kind-apiversion", configmap("memcached", 0), "apiVersion: v1\n", "")

    # Wrong apiVersions.
    add("apiversion-apps-v1beta1", sts, "apiVersion: apps/v1", "apiVersion: apps/v1beta1")
    add("apiversion-apps-v1beta2", dep, "apiVersion: apps/v1", "apiVersion: apps/v1beta2")
    add("apiversion-extensions-ingress", ingress("memcached", 11211), "apiVersion: networking.k8s.io/v1", "apiVersion: extensions/v1beta1")
    add("apiversion-policy-v1beta1", p, "apiVersion: policy/v1", "apiVersion: policy/v1beta1")
    add("apiversion-batch-v1beta1", cronjob("memcached", "*/5 * * * *"), "apiVersion: batch/v1", "apiVersion: batch/v1beta1")
    add("apiversion-autoscaling-v2beta2", hpa("memcached", "400Mi"), "apiVersion: autoscaling/v2", "apiVersion: autoscaling/v2beta2")

    # Int-or-string misuse.
    add("intorstring-targetport-bool", svc, "      targetPort: memcache", "      targetPort: true")
    add("intorstring-targetport-list", svc, "      targetPort: memcache", "      targetPort: [11211]")
    add("intorstring-pdb-float", p, "  minAvailable: 1", "  minAvailable: 1.5")
    add("intorstring-maxsurge-mapping", dep, "      maxSurge: 25%", "      maxSurge: {percent: 25}")
    add("intorstring-probe-port-bool", sts, "              port: memcache", "              port: false")
    return docs


def write(dir_name, docs):
    path = os.path.join(HERE, dir_name)
    if os.path.isdir(path):
        shutil.rmtree(path)
    os.makedirs(path)
    seen = set()
    for name, text in docs:
        assert name not in seen, name
        seen.add(name)
        with open(os.path.join(path, name + ".yaml"), "w") as f:
            f.write(text if text.endswith("\n") else text + "\n")
    return len(docs)


def main():
    v = write("valid", valid_documents())
    i = write("invalid", invalid_documents())
    print(f"wrote {v} valid and {i} invalid documents under {HERE}")


if __name__ == "__main__":
    main()
