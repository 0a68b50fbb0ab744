package clientcert

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/secret"
)

// Cert is a signed client certificate with its key.
type Cert struct {
	CertPEM  string        // the leaf
	ChainPEM string        // the issuing CA and any chain above it
	Key      secret.String // PEM "EC PRIVATE KEY"
	Mount    string        // the PKI mount that signed it (and revokes it)
	Serial   string        // as Vault writes it: colon-separated hex
	Subject  string        // e.g. CN=alice
	NotAfter time.Time
	// IssuedAt is when it was signed, by the local clock (not its
	// NotBefore, which Vault backdates by the role's not_before_duration,
	// 30s); zero in records made before it was kept.
	IssuedAt time.Time
	Dir      string // where its files were written (Write): logout removes them there too
}

// ValidFor reports whether c exists and is valid for longer than d at now.
func (c *Cert) ValidFor(now time.Time, d time.Duration) bool {
	return c != nil && c.NotAfter.Sub(now) > d
}

// Fresh reports whether c is valid for longer than the margin m at now,
// or, when its whole life is short (a client_cert_ttl no longer than
// --min-ttl), for longer than half its life: like a token just issued, a
// certificate just signed is accepted even when its TTL is shorter than
// the margin, so that every run does not sign (and revoke) another.
func (c *Cert) Fresh(now time.Time, m time.Duration) bool {
	if c == nil {
		return false
	}
	if !c.IssuedAt.IsZero() {
		if half := c.NotAfter.Sub(c.IssuedAt) / 2; half < m {
			m = half
		}
	}
	return c.ValidFor(now, m)
}

// Doer is the Vault client: the user's token, Vault's origin only.
type Doer interface {
	Do(ctx context.Context, method, path string, in, out any) error
	// DoIdempotent is Do tried again after a transient failure: for
	// reads only (Revoked), never for a signature or a revocation.
	DoIdempotent(ctx context.Context, method, path string, in, out any) error
}

// NewKey makes an EC P-256 key.
func NewKey() (secret.String, *ecdsa.PrivateKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return secret.String{}, nil, fmt.Errorf("could not make a key: %w", err)
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return secret.String{}, nil, fmt.Errorf("could not encode the key: %w", err)
	}
	return secret.New(string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))), k, nil
}

// CSR is a PEM certificate request for common name cn, signed by k.
func CSR(k *ecdsa.PrivateKey, cn string) (string, error) {
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}, k)
	if err != nil {
		return "", fmt.Errorf("could not make a certificate request: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), nil
}

// SignPath is the API path of profile's signing endpoint on mount.
func SignPath(mount, profile string) string {
	return "/v1/" + strings.Trim(mount, "/") + "/sign/" + url.PathEscape(profile)
}

// Sign makes a key, sends a CSR for cn to <mount>/sign/<profile> with
// the user's Vault client v, and returns the certificate with its key.
// ttl asks for a lifetime (0: the role's); Vault caps it at the role's.
func Sign(ctx context.Context, v Doer, mount, profile, cn string, ttl time.Duration) (*Cert, error) {
	keyPEM, k, err := NewKey()
	if err != nil {
		return nil, err
	}
	csr, err := CSR(k, cn)
	if err != nil {
		return nil, err
	}
	body := map[string]any{"csr": csr, "format": "pem"}
	if ttl > 0 {
		body["ttl"] = fmt.Sprintf("%ds", int64(ttl.Seconds()))
	}
	var out struct {
		Data struct {
			Certificate string   `json:"certificate"`
			IssuingCA   string   `json:"issuing_ca"`
			CAChain     []string `json:"ca_chain"`
		} `json:"data"`
	}
	if err := v.Do(ctx, "POST", SignPath(mount, profile), body, &out); err != nil {
		return nil, fmt.Errorf("could not sign a client certificate at %s/sign/%s: %w", strings.Trim(mount, "/"), profile, err)
	}
	c, err := Parse(out.Data.Certificate)
	if err != nil {
		return nil, err
	}
	// Only the leaf is ours: an EC P-256 key, the one sent. The CA
	// chain above it may have any key type (an RSA root is usual).
	if pub, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() || !pub.Equal(&k.PublicKey) {
		return nil, errors.New("could not sign a client certificate: Vault's certificate is not for the key sent")
	}
	chain := out.Data.CAChain
	if len(chain) == 0 && out.Data.IssuingCA != "" {
		chain = []string{out.Data.IssuingCA}
	}
	var b strings.Builder
	for _, p := range chain {
		if _, err := Parse(p); err != nil {
			return nil, fmt.Errorf("could not read the CA chain: %w", err)
		}
		b.WriteString(strings.TrimSpace(p) + "\n")
	}
	return &Cert{
		CertPEM: strings.TrimSpace(out.Data.Certificate) + "\n", ChainPEM: b.String(), Key: keyPEM, Mount: strings.Trim(mount, "/"),
		Serial: Serial(c), Subject: c.Subject.String(), NotAfter: c.NotAfter, IssuedAt: time.Now(),
	}, nil
}

// Parse reads one PEM certificate (of any key type); a server's answer
// is checked here before it is kept.
func Parse(certPEM string) (*x509.Certificate, error) {
	blk, _ := pem.Decode([]byte(certPEM))
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, errors.New("could not read the certificate: not a PEM certificate")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("could not read the certificate: %w", err)
	}
	return c, nil
}

// Serial is c's serial as Vault writes it (colon-separated lower-case hex).
func Serial(c *x509.Certificate) string {
	b := c.SerialNumber.Bytes()
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02x", x)
	}
	return strings.Join(parts, ":")
}

// Revoked asks Vault (v, no token needed: <mount>/cert/<serial> is
// public) whether c is revoked: a certificate signed with a lease
// (the role's generate_lease) is revoked with the Vault token that signed
// it.
func Revoked(ctx context.Context, v Doer, c *Cert) (bool, error) {
	var out struct {
		Data struct {
			RevocationTime int64 `json:"revocation_time"`
		} `json:"data"`
	}
	if err := v.DoIdempotent(ctx, "GET", "/v1/"+strings.Trim(c.Mount, "/")+"/cert/"+url.PathEscape(c.Serial), nil, &out); err != nil {
		return false, fmt.Errorf("could not read the state of the client certificate %s: %w", c.Serial, err)
	}
	return out.Data.RevocationTime > 0, nil
}

// Revoke revokes c at <mount>/revoke-with-key, proving possession of its
// key. A certificate Vault no longer knows, or has already revoked, is
// done.
func Revoke(ctx context.Context, v Doer, mount string, c *Cert) error {
	if c == nil {
		return nil
	}
	body := map[string]any{"certificate": c.CertPEM, "private_key": c.Key.Reveal()}
	if err := v.Do(ctx, "POST", "/v1/"+strings.Trim(mount, "/")+"/revoke-with-key", body, nil); err != nil {
		if m := err.Error(); leaksKey(m, c.Key) {
			// A Doer that quoted the key back: its text only, masked.
			return fmt.Errorf("could not revoke the client certificate %s: %s", c.Serial, apiclient.MaskPEMKeys(hideKey(m, c.Key)))
		}
		return fmt.Errorf("could not revoke the client certificate %s: %w", c.Serial, err)
	}
	return nil
}

// keyParts are the key k's base64 lines, each as a pattern that also
// matches the forms in which a server or proxy may quote it back: as sent
// in PEM, JSON-escaped ("\/", "\u002b"), percent- or form-encoded ("%2B",
// "%2F", "%3D", '+' as a space), in any mix.
func keyParts(k secret.String) []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, l := range strings.Split(k.Reveal(), "\n") {
		if l = strings.TrimSpace(l); len(l) < 16 || strings.HasPrefix(l, "-----") {
			continue
		}
		var b strings.Builder
		for _, c := range l {
			switch c {
			case '+':
				b.WriteString(`(?:\+|%2[bB]| |\\u002[bB])`)
			case '/':
				b.WriteString(`(?:/|%2[fF]|\\/|\\u002[fF])`)
			case '=':
				b.WriteString(`(?:=|%3[dD]|\\u003[dD])`)
			default:
				b.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		if re, err := regexp.Compile(b.String()); err == nil {
			out = append(out, re)
		}
	}
	return out
}

// leaksKey reports whether m carries any line of the key k, in any of
// its forms, or a PEM private key block.
func leaksKey(m string, k secret.String) bool {
	for _, re := range keyParts(k) {
		if re.MatchString(m) {
			return true
		}
	}
	return apiclient.MaskPEMKeys(m) != m
}

// hideKey takes the lines of the key k out of m.
func hideKey(m string, k secret.String) string {
	for _, re := range keyParts(k) {
		m = re.ReplaceAllLiteralString(m, secret.Redacted)
	}
	return m
}
