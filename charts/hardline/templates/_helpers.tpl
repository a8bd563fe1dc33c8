{{/* Names, labels and the image reference shared by the templates of the hardline chart. */}}

{{/* The release's base name: "<release>-hardline", or the release name when it already says hardline. */}}
{{- define "hardline.fullname" -}}
{{- if contains "hardline" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-hardline" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "hardline.selectorLabels" -}}
app.kubernetes.io/name: hardline-webhook
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "hardline.labels" -}}
{{ include "hardline.selectorLabels" . }}
app.kubernetes.io/part-of: hardline
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "hardline.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "hardline.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The TLS Secret: the user's, or the one the chart generates. */}}
{{- define "hardline.tlsSecretName" -}}
{{- if .Values.tls.generate -}}
{{- printf "%s-tls" (include "hardline.fullname" .) -}}
{{- else -}}
{{- required "tls.existingSecret is required when tls.generate is false (a kubernetes.io/tls Secret in the release namespace)" .Values.tls.existingSecret -}}
{{- end -}}
{{- end -}}

{{/* repository@digest when a digest is given, else repository:tag (tag defaults to appVersion). */}}
{{- define "hardline.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The namespaces never sent to the webhook: webhook.excludeNamespaces plus the release namespace. */}}
{{- define "hardline.excludedNamespaces" -}}
{{- $ns := concat .Values.webhook.excludeNamespaces (list .Release.Namespace) | uniq -}}
{{- toJson $ns -}}
{{- end -}}
