# Look at the CI builders and the Jenkins builders: jobs, allocations, logs.
namespace "ci" {
  policy       = "read"
  capabilities = ["read-logs"]
}
