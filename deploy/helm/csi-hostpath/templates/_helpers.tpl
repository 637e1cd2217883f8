{{/* Labels Helm adds to the objects it owns; deploy/base has none of them. */}}
{{- define "csi-hostpath.helmLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The node pod's labels, also its selector: fixed, so an upgrade never changes the DaemonSet's selector. */}}
{{- define "csi-hostpath.nodeLabels" -}}
app.kubernetes.io/name: csi-hostpath
app.kubernetes.io/component: node
{{- end }}

{{- define "csi-hostpath.driverName" -}}hostpath.csihostpath.dev{{- end }}

{{- define "csi-hostpath.kubeletDir" -}}{{ trimSuffix "/" .Values.kubeletDir }}{{- end }}

{{/* The default-class annotation for the StorageClass whose short name is given as .class. */}}
{{- define "csi-hostpath.defaultClass" -}}
{{- if eq .root.Values.storageClasses.default .class }}
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
{{- end }}
{{- end }}
