// Command alilogin signs an engineer in once through CERN SSO and keeps
// short-lived Vault, Nomad and Consul tokens in the OS keyring for the
// vault, nomad and consul CLIs and for scripts. See docs/user-guide.md.
//
// The commands are one file each here (flags, arguments, printing); what
// they do is in internal/session and the packages it uses, not here.
package main
