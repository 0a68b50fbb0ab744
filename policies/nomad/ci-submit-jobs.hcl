# Submit, stop and restart the CI builders and the Jenkins builders.
namespace "ci" {
  policy       = "write"
  capabilities = ["alloc-lifecycle"]
}
