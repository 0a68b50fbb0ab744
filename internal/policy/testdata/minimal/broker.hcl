sso {
  issuer    = "https://sso.example.org/realms/test"
  client_id = "alilogin-test"
}

vault {}
