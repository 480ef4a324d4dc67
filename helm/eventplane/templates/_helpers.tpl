{{/*
Names, labels and the derived settings every template shares.
*/}}

{{/* The chart name (63 characters at most: a DNS label). */}}
{{- define "eventplane.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's base name: "<release>-<chart>", or the release name when it
already contains the chart name. 63 characters at most.
*/}}
{{- define "eventplane.fullname" -}}
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

{{/*
"<fullname>-<suffix>" within 63 characters: the fullname is shortened, never
the suffix, so two suffixes of one release can never end up with one name.
Call with (list $ "suffix").
*/}}
{{- define "eventplane.suffixedName" -}}
{{- $root := index . 0 }}
{{- $suffix := index . 1 }}
{{- $base := include "eventplane.fullname" $root | trunc (int (sub 62 (len $suffix))) | trimSuffix "-" }}
{{- printf "%s-%s" $base $suffix }}
{{- end }}

{{/* "<chart>-<version>" for the helm.sh/chart label. */}}
{{- define "eventplane.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels: fixed for the life of a release (no chart or app version),
because a Deployment's selector cannot change on upgrade.
*/}}
{{- define "eventplane.selectorLabels" -}}
app.kubernetes.io/name: {{ include "eventplane.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of every resource. */}}
{{- define "eventplane.labels" -}}
helm.sh/chart: {{ include "eventplane.chart" . }}
{{ include "eventplane.selectorLabels" . }}
app.kubernetes.io/version: {{ include "eventplane.imageTag" . | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: eventplane
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The image tag: image.tag, else the chart's appVersion. */}}
{{- define "eventplane.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{/* The image reference; a digest wins over the tag. */}}
{{- define "eventplane.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (include "eventplane.imageTag" .) }}
{{- end }}
{{- end }}

{{- define "eventplane.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "eventplane.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding EVENTPLANE_RECEIPT_SECRET. */}}
{{- define "eventplane.receiptSecretName" -}}
{{- if .Values.receiptSecret.existingSecret }}
{{- .Values.receiptSecret.existingSecret }}
{{- else }}
{{- include "eventplane.suffixedName" (list . "receipt") }}
{{- end }}
{{- end }}

{{/* The ConfigMap with the YAML config file. */}}
{{- define "eventplane.configMapName" -}}
{{- include "eventplane.suffixedName" (list . "config") }}
{{- end }}

{{/* The kubernetes.io/tls Secret of the gRPC port (written by cert-manager when it is on). */}}
{{- define "eventplane.tlsSecretName" -}}
{{- if .Values.tls.existingSecret }}
{{- .Values.tls.existingSecret }}
{{- else }}
{{- include "eventplane.suffixedName" (list . "tls") }}
{{- end }}
{{- end }}

{{/* The Secret the chart generates with a token and its hash (auth.tokens.generate). */}}
{{- define "eventplane.authSecretName" -}}
{{- include "eventplane.suffixedName" (list . "auth") }}
{{- end }}

{{/* Whether the chart generates the token Secret: generate on, no existingSecret. */}}
{{- define "eventplane.generateToken" -}}
{{- if and .Values.auth.tokens.generate (not .Values.auth.tokens.existingSecret) }}true{{ end }}
{{- end }}

{{/* The Secret holding the tokens file, or "" when token authentication is off. */}}
{{- define "eventplane.tokensSecretName" -}}
{{- if .Values.auth.tokens.existingSecret }}
{{- .Values.auth.tokens.existingSecret }}
{{- else if include "eventplane.generateToken" . }}
{{- include "eventplane.authSecretName" . }}
{{- end }}
{{- end }}

{{/* Key of the tokens file in that Secret. */}}
{{- define "eventplane.tokensKey" -}}
{{- if .Values.auth.tokens.existingSecret }}
{{- .Values.auth.tokens.key }}
{{- else }}tokens.yaml{{ end }}
{{- end }}

{{/*
Where the security files are mounted: each Secret as a read-only folder, never
with subPath (a subPath mount never sees a renewed certificate).
*/}}
{{- define "eventplane.tlsDir" -}}/etc/eventplane/tls{{- end }}
{{- define "eventplane.clientCADir" -}}/etc/eventplane/client-ca{{- end }}
{{- define "eventplane.authDir" -}}/etc/eventplane/auth{{- end }}
{{- define "eventplane.jwksDir" -}}/etc/eventplane/jwks{{- end }}

{{/* EVENTPLANE_TLS_CLIENT_CA_FILE: its own Secret's key, else ca.crt of the TLS Secret. */}}
{{- define "eventplane.tlsClientCAFile" -}}
{{- if and .Values.tls.enabled .Values.tls.clientCA.enabled }}
{{- if .Values.tls.clientCA.existingSecret }}
{{- printf "%s/ca.crt" (include "eventplane.clientCADir" .) }}
{{- else }}
{{- printf "%s/ca.crt" (include "eventplane.tlsDir" .) }}
{{- end }}
{{- end }}
{{- end }}

{{/* The gRPC Services' names, as YAML {names: [...]}: the main one, then one per split workload. */}}
{{- define "eventplane.grpcServiceNames" -}}
{{- $names := list (include "eventplane.fullname" .) }}
{{- if eq .Values.mode "split" }}
{{- range $component, $w := include "eventplane.workloads" . | fromYaml }}
{{- $names = append $names $w.name }}
{{- end }}
{{- end }}
{{- toYaml (dict "names" $names) }}
{{- end }}

{{/*
Name of the Strimzi Kafka resource. Strimzi derives names such as
"<cluster>-kafka-bootstrap" and "<cluster>-<pool>-<n>" from it, so the
default stays within 40 characters.
*/}}
{{- define "eventplane.kafkaClusterName" -}}
{{- if .Values.kafka.strimzi.clusterName }}
{{- .Values.kafka.strimzi.clusterName }}
{{- else }}
{{- printf "%s-kafka" (include "eventplane.fullname" . | trunc 34 | trimSuffix "-") }}
{{- end }}
{{- end }}

{{/* EVENTPLANE_KAFKA_BOOTSTRAP: the chart's Strimzi cluster or kafka.bootstrapServers. */}}
{{- define "eventplane.kafkaBootstrap" -}}
{{- if .Values.kafka.strimzi.enabled }}
{{- printf "%s-kafka-bootstrap.%s.svc:%d" (include "eventplane.kafkaClusterName" .) .Release.Namespace (int .Values.kafka.strimzi.listener.port) }}
{{- else }}
{{- .Values.kafka.bootstrapServers }}
{{- end }}
{{- end }}

{{/* Whether clients use TLS (set, or implied by the chart's Strimzi TLS listener). */}}
{{- define "eventplane.kafkaTLS" -}}
{{- if or .Values.kafka.tls.enabled (and .Values.kafka.strimzi.enabled .Values.kafka.strimzi.listener.tls) }}true{{ end }}
{{- end }}

{{/* The Secret with the brokers' CA certificate, or "" for the system CAs. */}}
{{- define "eventplane.kafkaCASecret" -}}
{{- if .Values.kafka.tls.caSecret.name }}
{{- .Values.kafka.tls.caSecret.name }}
{{- else if and .Values.kafka.strimzi.enabled .Values.kafka.strimzi.listener.tls }}
{{- printf "%s-cluster-ca-cert" (include "eventplane.kafkaClusterName" .) }}
{{- end }}
{{- end }}

{{/* Where Kafka TLS and secret files are mounted. */}}
{{- define "eventplane.kafkaTLSDir" -}}/etc/eventplane/kafka-tls{{- end }}
{{- define "eventplane.kafkaSecretsDir" -}}/etc/eventplane/kafka-secrets{{- end }}
{{- define "eventplane.configDir" -}}/etc/eventplane/config{{- end }}
{{- define "eventplane.runtimeConfigDir" -}}/run/eventplane{{- end }}

{{/*
kafka_client_config (librdkafka settings, no secrets) as a dict in YAML:
security.protocol and friends from kafka.tls / kafka.sasl, then
kafka.clientConfig on top.
*/}}
{{- define "eventplane.kafkaClientConfig" -}}
{{- $cfg := dict }}
{{- $tls := include "eventplane.kafkaTLS" . }}
{{- $sasl := .Values.kafka.sasl.enabled }}
{{- if and $tls $sasl }}
{{- $_ := set $cfg "security.protocol" "SASL_SSL" }}
{{- else if $tls }}
{{- $_ := set $cfg "security.protocol" "SSL" }}
{{- else if $sasl }}
{{- $_ := set $cfg "security.protocol" "SASL_PLAINTEXT" }}
{{- end }}
{{- if and $tls (include "eventplane.kafkaCASecret" .) }}
{{- $_ := set $cfg "ssl.ca.location" (printf "%s/ca.crt" (include "eventplane.kafkaTLSDir" .)) }}
{{- else if $tls }}
{{- /* confluent-kafka's wheels link OpenSSL statically: "probe" finds the image's system CAs. */}}
{{- $_ := set $cfg "ssl.ca.location" "probe" }}
{{- end }}
{{- if and $tls .Values.kafka.tls.clientCertSecret.name }}
{{- $_ := set $cfg "ssl.certificate.location" (printf "%s/client.crt" (include "eventplane.kafkaTLSDir" .)) }}
{{- $_ := set $cfg "ssl.key.location" (printf "%s/client.key" (include "eventplane.kafkaTLSDir" .)) }}
{{- end }}
{{- if $sasl }}
{{- $_ := set $cfg "sasl.mechanism" .Values.kafka.sasl.mechanism }}
{{- $_ := set $cfg "sasl.username" .Values.kafka.sasl.username }}
{{- end }}
{{- range $k, $v := .Values.kafka.clientConfig }}
{{- $_ := set $cfg $k (toString $v) }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}

{{/*
librdkafka settings read from Secrets, as a list of
{property, secretName, secretKey}: the SASL password, then
kafka.clientConfigFromSecrets.
*/}}
{{- define "eventplane.kafkaSecretSettings" -}}
{{- $out := list }}
{{- if .Values.kafka.sasl.enabled }}
{{- $out = append $out (dict "property" "sasl.password" "secretName" .Values.kafka.sasl.passwordSecret.name "secretKey" .Values.kafka.sasl.passwordSecret.key) }}
{{- end }}
{{- range .Values.kafka.clientConfigFromSecrets }}
{{- $out = append $out (dict "property" .property "secretName" .secretName "secretKey" .secretKey) }}
{{- end }}
{{- toYaml (dict "settings" $out) }}
{{- end }}

{{/*
The workloads to render, as YAML: name -> effective settings. allInOne is a
single workload "server" with every role. A key set on a split workload
replaces the top-level value of the same name (whole, not merged).
*/}}
{{- define "eventplane.workloads" -}}
{{- $root := . }}
{{- $chosen := dict }}
{{- if eq .Values.mode "split" }}
{{- range $name, $w := .Values.workloads }}
{{- if $w.enabled }}
{{- $_ := set $chosen $name $w }}
{{- end }}
{{- end }}
{{- else }}
{{- $_ := set $chosen "server" (dict "roles" (list "all") "apiService" true) }}
{{- end }}
{{- $perWorkload := list "replicas" "resources" "autoscaling" "podDisruptionBudget" "nodeSelector" "tolerations" "affinity" "topologySpreadConstraints" "podAnnotations" "extraEnv" }}
{{- $out := dict }}
{{- range $name, $w := $chosen }}
{{- $eff := dict "roles" $w.roles "apiService" $w.apiService }}
{{- if eq $root.Values.mode "split" }}
{{- $_ := set $eff "name" (include "eventplane.suffixedName" (list $root $name)) }}
{{- else }}
{{- $_ := set $eff "name" (include "eventplane.fullname" $root) }}
{{- end }}
{{- range $key := $perWorkload }}
{{- $_ := set $eff $key (ternary (index $w $key) (index $root.Values $key) (hasKey $w $key)) }}
{{- end }}
{{- $_ := set $out $name $eff }}
{{- end }}
{{- toYaml $out }}
{{- end }}

{{/*
Worker processes of one workload's server (EVENTPLANE_PROCESSES): config.processes,
else the workload's CPU limit rounded up ("1500m" -> 2), else 1 (call with
(dict "root" $ "w" $workload)).
*/}}
{{- define "eventplane.processes" -}}
{{- $n := int .root.Values.config.processes }}
{{- if lt $n 1 }}
{{- $cpu := "" }}
{{- with .w.resources }}{{ with .limits }}{{ with .cpu }}{{ $cpu = toString . }}{{ end }}{{ end }}{{ end }}
{{- if hasSuffix "m" $cpu }}
{{- $n = div (add (trimSuffix "m" $cpu | int) 999) 1000 | int }}
{{- else if $cpu }}
{{- $n = ceil ($cpu | float64) | int }}
{{- end }}
{{- end }}
{{- max $n 1 }}
{{- end }}

{{/* Labels of one workload's pods and resources: call with (dict "root" $ "component" $name). */}}
{{- define "eventplane.componentSelectorLabels" -}}
{{ include "eventplane.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
Checks that span several values (values.schema.json checks each value
alone). Each message names the values to change.
*/}}
{{- define "eventplane.validate" -}}
{{- if gt (int .Values.topics.minInsyncReplicas) (int .Values.topics.replicationFactor) }}
{{- fail (printf "topics.minInsyncReplicas (%d) must not exceed topics.replicationFactor (%d)" (int .Values.topics.minInsyncReplicas) (int .Values.topics.replicationFactor)) }}
{{- end }}
{{- if .Values.kafka.strimzi.enabled }}
{{- $brokers := 0 }}
{{- range $pool := .Values.kafka.strimzi.nodePools }}
{{- if has "broker" $pool.roles }}
{{- $brokers = add $brokers (int $pool.replicas) }}
{{- end }}
{{- end }}
{{- if gt (int .Values.topics.replicationFactor) (int $brokers) }}
{{- fail (printf "topics.replicationFactor (%d) exceeds the %d broker(s) of kafka.strimzi.nodePools" (int .Values.topics.replicationFactor) (int $brokers)) }}
{{- end }}
{{- else if not .Values.kafka.bootstrapServers }}
{{- fail "kafka.bootstrapServers is required (the brokers of your Kafka cluster), unless kafka.strimzi.enabled" }}
{{- end }}
{{- if and .Values.kafka.sasl.enabled (not .Values.kafka.sasl.passwordSecret.name) }}
{{- fail "kafka.sasl.passwordSecret.name is required when kafka.sasl.enabled" }}
{{- end }}
{{- if and .Values.podDisruptionBudget.enabled (not (kindIs "invalid" .Values.podDisruptionBudget.minAvailable)) (not (kindIs "invalid" .Values.podDisruptionBudget.maxUnavailable)) }}
{{- fail "podDisruptionBudget: set minAvailable or maxUnavailable, not both (set the other to null)" }}
{{- end }}
{{- if le (int .Values.terminationGracePeriodSeconds) (int (add .Values.preStopSleepSeconds (ceil .Values.config.shutdownGrace))) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed preStopSleepSeconds + config.shutdownGrace (%d)" (int .Values.terminationGracePeriodSeconds) (int (add .Values.preStopSleepSeconds (ceil .Values.config.shutdownGrace)))) }}
{{- end }}
{{- if and .Values.tls.enabled (not .Values.tls.existingSecret) (not .Values.tls.certManager.enabled) }}
{{- fail "tls.enabled needs a certificate: set tls.existingSecret (a kubernetes.io/tls Secret) or tls.certManager.enabled=true" }}
{{- end }}
{{- if and .Values.tls.certManager.enabled (not .Values.tls.enabled) }}
{{- fail "tls.certManager.enabled needs tls.enabled=true" }}
{{- end }}
{{- if and .Values.tls.certManager.enabled (not .Values.tls.certManager.issuerRef.name) }}
{{- fail "tls.certManager.issuerRef.name is required when tls.certManager.enabled (the Issuer or ClusterIssuer that signs the certificate)" }}
{{- end }}
{{- if and .Values.tls.clientCA.enabled (not .Values.tls.enabled) }}
{{- fail "tls.clientCA.enabled (mutual TLS) needs tls.enabled=true" }}
{{- end }}
{{- include "eventplane.requireAuthentication" . }}
{{- if eq .Values.mode "split" }}
{{- $enabled := 0 }}
{{- range $name, $w := .Values.workloads }}{{ if $w.enabled }}{{ $enabled = add1 $enabled }}{{ end }}{{ end }}
{{- if eq (int $enabled) 0 }}
{{- fail "mode split needs at least one workload with enabled: true" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The server refuses to listen on 0.0.0.0 with nobody required to authenticate
(security/setup.py check_exposure); fail at render time instead of in a
crash-looping pod, naming the ways out.
*/}}
{{- define "eventplane.requireAuthentication" -}}
{{- $mtls := and .Values.tls.enabled .Values.tls.clientCA.enabled }}
{{- if not (or (include "eventplane.tokensSecretName" .) $mtls .Values.auth.jwt.jwks.configMap .Values.auth.insecure) }}
{{- fail "nothing authenticates callers of the gRPC API, and the pods listen on 0.0.0.0: set auth.tokens.existingSecret (a tokens file; or keep auth.tokens.generate=true), auth.jwt.jwks.configMap (OIDC/JWT), tls.clientCA.enabled=true (mutual TLS, with tls.enabled), or auth.insecure=true (anyone who reaches a pod gets in)" }}
{{- end }}
{{- end }}

{{/*
What a probe checks: Kubernetes' native gRPC health check when the port is
plaintext. The kubelet's gRPC probe cannot speak TLS, so with tls.enabled it
checks that the gRPC port accepts connections: the server binds it only after
every role has started and closes it when it drains, and a TCP check needs no
client certificate under mutual TLS. Call with (dict "root" $ "tls" bool).
*/}}
{{- define "eventplane.probeCheck" -}}
{{- if .tls -}}
tcpSocket:
  port: grpc
{{- else -}}
grpc:
  port: {{ .root.Values.config.grpcPort }}
{{- end }}
{{- end }}

{{/*
EVENTPLANE_ROLE_ENDPOINTS of one split workload (call with (dict "root" $ "self" $name)):
every role another enabled workload runs -> that workload's gRPC Service, so this
workload's pods relay the calls for roles they do not run (a workflow task's
sqs:sendMessage, a handler's Client(), a client on the api Service). "" in allInOne.
*/}}
{{- define "eventplane.roleEndpoints" -}}
{{- $root := .root }}
{{- $self := .self }}
{{- $pairs := list }}
{{- $seen := dict }}
{{- if eq $root.Values.mode "split" }}
{{- $workloads := include "eventplane.workloads" $root | fromYaml }}
{{- range $role := (index $workloads $self).roles }}{{ $_ := set $seen $role true }}{{ end }}
{{- range $name, $w := $workloads }}
{{- if ne $name $self }}
{{- range $role := $w.roles }}
{{- if and (ne $role "all") (not (hasKey $seen $role)) }}
{{- $_ := set $seen $role true }}
{{- $pairs = append $pairs (printf "%s=%s.%s.svc:%v" $role $w.name $root.Release.Namespace $root.Values.service.port) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- join "," $pairs }}
{{- end }}
