# See the nodes the builders run on (drain status, resources).
node {
  policy = "read"
}
