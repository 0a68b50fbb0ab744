# Run the build infrastructure: build jobs and the web services.
namespace "build" {
  policy = "write"
}

namespace "web" {
  policy = "write"
}

namespace "ci" {
  policy = "read"
}
