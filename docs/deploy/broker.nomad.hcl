# alilogin broker as a Nomad job: `broker serve` in two instances, one
# leading under a lock in Consul, registered in Consul with an HTTP check on
# /readyz, published by Traefik (discovery and health only; /metrics stays
# inside). See operations.md.
#
#   nomad job run -var version=v1.2.0 \
#     -var artifact_checksum=sha256:$(awk '$2 == "broker-v1.2.0-linux-amd64" {print $1}' SHA256SUMS) \
#     -var 'policies_source=git::https://gitlab.cern.ch/alice/alilogin-policies.git//policies?ref=v42' \
#     docs/deploy/broker.nomad.hcl
#
# Checked by `nomad job validate` in internal/serve/e2e (TestJobSpec), and
# run there on a dev agent with the raw_exec driver.

variable "datacenters" {
  type    = list(string)
  default = ["*"]
}

variable "count" {
  description = "Instances; one leads, the others serve HTTP and take over."
  type        = number
  default     = 2
}

variable "distinct_hosts" {
  description = "Keep the instances on different nodes."
  type        = bool
  default     = true
}

variable "driver" {
  description = "exec (isolated) in production; raw_exec in the tests."
  type        = string
  default     = "exec"
}

variable "version" {
  description = "Release of the broker binary to fetch, vX.Y.Z (as in the release's file names)."
  type        = string
  default     = ""
}

variable "artifact_url" {
  description = "Where the release binary is downloaded from ({version} is replaced by version); empty: use binary as is (tests)."
  type        = string
  default     = "https://gitlab.cern.ch/alice/alilogin/-/releases/{version}/downloads/broker-{version}-linux-amd64"
}

variable "artifact_checksum" {
  description = "sha256:<hex> of that binary, from the release's SHA256SUMS. Required with artifact_url: without it the download fails instead of running an unchecked binary."
  type        = string
  default     = ""

  validation {
    condition     = var.artifact_checksum == "" || substr(var.artifact_checksum, 0, 7) == "sha256:"
    error_message = "The artifact_checksum must be sha256:<hex>, the binary's line in SHA256SUMS."
  }
}

variable "binary" {
  description = "Path of the broker binary in the task (artifact destination, or a host path with raw_exec)."
  type        = string
  default     = "local/broker"
}

variable "policies_source" {
  description = "go-getter source of the policies/ folder (a Git tag: reviewed, versioned); empty: policies_dir."
  type        = string
  default     = "git::https://gitlab.cern.ch/alice/alilogin-policies.git//policies?ref=main"
}

variable "policies_dir" {
  description = "The policies folder as the task sees it."
  type        = string
  default     = "local/policies"
}

variable "vault_addr" {
  type    = string
  default = "https://alice-vault.cern.ch:8200"
}

variable "nomad_addr" {
  type    = string
  default = "https://alice-nomad.cern.ch:4646"
}

variable "consul_addr" {
  description = "Consul agent address; empty: the agent on the allocation's node. Use a node-local agent, not a load balancer: the leader lock's liveness check is registered on, and passed to, one agent."
  type        = string
  default     = ""
}

variable "vault_policies" {
  description = "Vault policies of the broker's token (docs/broker-vault-policy.hcl and docs/deploy/vault-broker-serve.hcl)."
  type        = list(string)
  default     = ["alilogin-broker", "alilogin-broker-serve"]
}

variable "interval" {
  type    = string
  default = "5m"
}

variable "host" {
  description = "Public host name Traefik routes to the broker."
  type        = string
  default     = "alilogin-broker.cern.ch"
}

job "alilogin-broker" {
  datacenters = var.datacenters
  type        = "service"

  update {
    max_parallel      = 1
    health_check      = "checks"
    min_healthy_time  = "10s"
    healthy_deadline  = "3m"
    progress_deadline = "10m"
    auto_revert       = true
  }

  group "broker" {
    count = var.count

    constraint {
      operator = "distinct_hosts"
      value    = var.distinct_hosts
    }

    network {
      port "http" {}
    }

    restart {
      attempts = 5
      interval = "10m"
      delay    = "15s"
      mode     = "delay"
    }

    service {
      name     = "alilogin-broker"
      port     = "http"
      provider = "consul"
      tags = [
        "traefik.enable=true",
        # Only the public endpoints; /metrics and /readyz stay internal.
        "traefik.http.routers.alilogin-broker.rule=Host(`${var.host}`) && (Path(`/v1/discovery`) || Path(`/healthz`))",
        "traefik.http.routers.alilogin-broker.entrypoints=https",
        "traefik.http.routers.alilogin-broker.tls=true",
        "prometheus",
      ]
      meta {
        metrics_path = "/metrics"
      }

      check {
        name     = "ready"
        type     = "http"
        path     = "/readyz"
        interval = "10s"
        timeout  = "3s"
      }
    }

    task "broker" {
      driver = var.driver

      # The broker's Vault token: renewed by Nomad, revoked when the
      # allocation stops. With it the broker reads short-lived Nomad and
      # Consul management tokens from Vault (see args).
      vault {
        policies      = var.vault_policies
        change_mode   = "signal"
        change_signal = "SIGTERM"
      }

      dynamic "artifact" {
        for_each = var.artifact_url == "" ? [] : [1]
        content {
          source      = replace(var.artifact_url, "{version}", var.version)
          destination = "local/broker"
          mode        = "file"
          # Nomad (go-getter) refuses a download whose SHA-256 differs. An
          # unset checksum becomes all zeros, which no binary has: the task
          # fails to start rather than run an unchecked binary.
          options {
            checksum = var.artifact_checksum != "" ? var.artifact_checksum : "sha256:0000000000000000000000000000000000000000000000000000000000000000"
          }
        }
      }

      dynamic "artifact" {
        for_each = var.policies_source == "" ? [] : [1]
        content {
          source      = var.policies_source
          destination = "local/policies"
        }
      }

      # Addresses (no secret) for the broker's environment.
      env {
        VAULT_ADDR       = var.vault_addr
        NOMAD_ADDR       = var.nomad_addr
        CONSUL_HTTP_ADDR = var.consul_addr != "" ? var.consul_addr : "https://${attr.unique.network.ip-address}:8501"
      }

      # Client-certificate TLS (ALICE's servers require it): render a
      # certificate from Vault's PKI and point the CLIs' variables at it,
      # e.g. (the role pki/issue/alilogin-broker is yours to define):
      #
      # template {
      #   destination = "secrets/tls.env"
      #   env         = true
      #   data        = <<-EOT
      #     VAULT_CLIENT_CERT={{ env "NOMAD_SECRETS_DIR" }}/client.pem
      #     VAULT_CLIENT_KEY={{ env "NOMAD_SECRETS_DIR" }}/client.key
      #     NOMAD_CLIENT_CERT={{ env "NOMAD_SECRETS_DIR" }}/client.pem
      #     NOMAD_CLIENT_KEY={{ env "NOMAD_SECRETS_DIR" }}/client.key
      #     CONSUL_CLIENT_CERT={{ env "NOMAD_SECRETS_DIR" }}/client.pem
      #     CONSUL_CLIENT_KEY={{ env "NOMAD_SECRETS_DIR" }}/client.key
      #   EOT
      # }
      # template {
      #   destination = "secrets/client.pem"
      #   change_mode = "restart"
      #   data        = "{{ with secret \"pki/issue/alilogin-broker\" \"common_name=alilogin-broker.service.consul\" \"ttl=72h\" }}{{ .Data.certificate }}{{ end }}"
      # }
      # (and secrets/client.key from .Data.private_key)

      # Alternative credential mode: long-lived tokens from Vault's KV
      # instead of --*-token-from-vault (see operations.md):
      #
      # template {
      #   destination = "secrets/tokens"
      #   env         = true
      #   data        = <<-EOT
      #     {{ with secret "kv/data/alilogin-broker" }}
      #     NOMAD_TOKEN={{ .Data.data.nomad_token }}
      #     CONSUL_HTTP_TOKEN={{ .Data.data.consul_token }}
      #     {{ end }}
      #   EOT
      # }

      config {
        command = var.binary
        args = [
          "serve", var.policies_dir,
          "--listen", "${NOMAD_ADDR_http}",
          "--interval", var.interval,
          "--identity", "${NOMAD_ALLOC_ID}",
          "--log-format", "json",
          "--nomad-token-from-vault", "nomad/creds/alilogin-broker",
          "--consul-token-from-vault", "consul/creds/alilogin-broker",
        ]
      }

      kill_timeout = "30s"
      kill_signal  = "SIGTERM"

      resources {
        cpu    = 200
        memory = 128
      }
    }
  }
}
