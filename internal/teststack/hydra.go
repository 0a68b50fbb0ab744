package teststack

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
)

// User is a test user of the login app.
type User struct {
	Username string // what the login form takes; also the OIDC subject
	Password string
	UPN      string   // cern_upn
	Roles    []string // cern_roles and resource_access.<client>.roles
	Name     string
	Email    string
}

// Hydra is Ory Hydra in memory with a public client and our login/consent
// app in front of it.
type Hydra struct {
	IssuerURL string // http://127.0.0.1:PORT/ (with the trailing slash Hydra uses)
	AdminURL  string
	AppURL    string // the login/consent app
	ClientID  string // the public PKCE client alilogin uses
	// AttendedClientID and AttendedClientSecret are the confidential
	// client of the attended tiers (Vault's OIDC auth method uses it;
	// redirect URIs: loopback, any port, AttendedRedirectURIs).
	AttendedClientID     string
	AttendedClientSecret string
	Bin                  string

	admin  *apiclient.Client
	app    *http.Server
	fronts []*http.Server // oneAtATime before Hydra's two ports
	p      *proc

	mu    sync.Mutex
	users map[string]User
}

// ClientOptions describes an OAuth client to register.
type ClientOptions struct {
	RedirectURIs []string // default: loopback callbacks
	// Scope defaults to "openid profile email offline_access offline".
	Scope string
	// Secret makes a confidential client (client_secret_basic) with this
	// secret; empty: a public PKCE client.
	Secret string
}

// StepUpACR is the acr value the login app puts in the ID token when the
// user typed their credentials on the login page, and only then (not
// when Hydra skips the page for a live session): the step-up claim an
// attended tier binds.
const StepUpACR = "urn:alice:stepup"

// AttendedRedirectURIs are the callbacks of the confidential client:
// alilogin elevate's loopback callback (any port, as Vault's OIDC roles
// allow it) and a plain one for tests.
var AttendedRedirectURIs = []string{"http://127.0.0.1/oidc/callback", "http://127.0.0.1/callback"}

// DefaultRedirectURIs are the callbacks registered for the public client:
// loopback on any port (RFC 8252 §7.3, which Hydra honours for 127.0.0.1).
var DefaultRedirectURIs = []string{"http://127.0.0.1/callback", "http://127.0.0.1/"}

// AddUser adds or replaces a test user.
func (h *Hydra) AddUser(u User) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.users[u.Username] = u
}

// NewClient registers a public OAuth client and returns its id.
func (h *Hydra) NewClient(ctx context.Context, o ClientOptions) (string, error) {
	if len(o.RedirectURIs) == 0 {
		o.RedirectURIs = DefaultRedirectURIs
	}
	if o.Scope == "" {
		o.Scope = "openid profile email offline_access offline"
	}
	in := map[string]any{
		"client_name":                "alilogin-test",
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code", "id_token"},
		"scope":                      o.Scope,
		"redirect_uris":              o.RedirectURIs,
		"token_endpoint_auth_method": "none",
	}
	if o.Secret != "" {
		in["client_name"] = "alilogin-attended-test"
		in["token_endpoint_auth_method"] = "client_secret_basic"
		in["client_secret"] = o.Secret
	}
	var out struct {
		ClientID string `json:"client_id"`
	}
	if err := h.admin.Do(ctx, "POST", "/admin/clients", in, &out); err != nil {
		return "", fmt.Errorf("could not register OAuth client: %w", err)
	}
	return out.ClientID, nil
}

// RevokeSessions ends the subject's login sessions and revokes its consent,
// which revokes its access and refresh tokens at Hydra.
func (h *Hydra) RevokeSessions(ctx context.Context, subject string) error {
	q := url.Values{"subject": {subject}}
	if err := h.admin.Do(ctx, "DELETE", "/admin/oauth2/auth/sessions/login?"+q.Encode(), nil, nil); err != nil && apiclient.StatusOf(err) != 404 {
		return err
	}
	q.Set("all", "true")
	if err := h.admin.Do(ctx, "DELETE", "/admin/oauth2/auth/sessions/consent?"+q.Encode(), nil, nil); err != nil && apiclient.StatusOf(err) != 404 {
		return err
	}
	return nil
}

func (h *Hydra) closeApp() {
	if h.app != nil {
		_ = h.app.Close()
	}
	for _, f := range h.fronts {
		_ = f.Close()
	}
}

// oneAtATime passes requests on to Hydra one at a time, the public and
// the admin port's alike (one lock): Hydra's in-memory database refuses
// writes that overlap ("Unable to serialize access due to a concurrent
// update in another session", TestHydraTakesConcurrentSignInsAndRefreshes),
// where a real provider serves users at once. Nothing Hydra does while
// answering waits for another request to it (the login app is reached by
// the browser's redirect), so the lock cannot deadlock.
type oneAtATime struct {
	mu *sync.Mutex
	rp *httputil.ReverseProxy
}

func (o oneAtATime) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.rp.ServeHTTP(w, r)
}

// front serves on ln and passes every request to port (Hydra's), under mu.
func (h *Hydra) front(ln net.Listener, port int, mu *sync.Mutex) {
	target := &url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", port)}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Host = pr.In.Host
	}}
	srv := &http.Server{Handler: oneAtATime{mu: mu, rp: rp}, ReadHeaderTimeout: 10 * time.Second}
	h.fronts = append(h.fronts, srv)
	go func() { _ = srv.Serve(ln) }()
}

func startHydra(ctx context.Context, s *Stack) (*Hydra, error) {
	bin, err := Bin("hydra")
	if err != nil {
		return nil, err
	}
	return onFreePorts(func() (*Hydra, error) { return startHydraOnce(ctx, s, bin) })
}

func startHydraOnce(ctx context.Context, s *Stack, bin string) (*Hydra, error) {
	// The issuer and admin addresses (oneAtATime), the login app,
	// Hydra's own public and admin ports.
	ports, err := freePorts(5)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(s.dir, "hydra-")
	if err != nil {
		return nil, err
	}
	h := &Hydra{
		IssuerURL: fmt.Sprintf("http://127.0.0.1:%d/", ports[0]),
		AdminURL:  fmt.Sprintf("http://127.0.0.1:%d", ports[1]),
		AppURL:    fmt.Sprintf("http://127.0.0.1:%d", ports[2]),
		Bin:       bin,
		users:     map[string]User{},
	}
	h.admin, err = apiclient.New("Hydra", h.AdminURL, "X-Unused", apiclient.TLS{}, 30*time.Second)
	if err != nil {
		return nil, err
	}
	// The login/consent app first, so Hydra's redirects land somewhere.
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", ports[2]))
	if err != nil {
		return nil, err
	}
	h.app = &http.Server{Handler: h.appHandler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = h.app.Serve(l) }()
	var one sync.Mutex
	for i, port := range []int{ports[3], ports[4]} {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", ports[i]))
		if err != nil {
			h.closeApp()
			return nil, err
		}
		h.front(ln, port, &one)
	}

	env := []string{
		"DSN=memory",
		"SECRETS_SYSTEM=" + randomHex(24),
		"URLS_SELF_ISSUER=" + h.IssuerURL,
		"URLS_LOGIN=" + h.AppURL + "/login",
		"URLS_CONSENT=" + h.AppURL + "/consent",
		"URLS_LOGOUT=" + h.AppURL + "/logout",
		"URLS_ERROR=" + h.AppURL + "/error",
		"SERVE_PUBLIC_HOST=127.0.0.1",
		"SERVE_PUBLIC_PORT=" + itoa(ports[3]),
		"SERVE_ADMIN_HOST=127.0.0.1",
		"SERVE_ADMIN_PORT=" + itoa(ports[4]),
		"OAUTH2_PKCE_ENFORCED_FOR_PUBLIC_CLIENTS=true",
		"OAUTH2_EXPOSE_INTERNAL_ERRORS=true",
		"STRATEGIES_ACCESS_TOKEN=opaque",
		"LOG_LEVEL=info",
		"SQA_OPT_OUT=true",
	}
	pub, _ := apiclient.New("Hydra", strings.TrimRight(h.IssuerURL, "/"), "X-Unused", apiclient.TLS{}, 5*time.Second)
	ready := func(ctx context.Context) error {
		if err := h.admin.Do(ctx, "GET", "/health/ready", nil, nil); err != nil {
			return err
		}
		err := pub.Do(ctx, "GET", "/.well-known/openid-configuration", nil, nil)
		if err != nil && strings.Contains(err.Error(), hydraLostTables) {
			return fmt.Errorf("%w: %v", errBroken, err)
		}
		return err
	}
	for attempt := 1; ; attempt++ {
		p, err := startProc("hydra", dir, bin, []string{"serve", "all", "--dev", "--sqa-opt-out"}, env)
		if err != nil {
			h.closeApp()
			return nil, err
		}
		s.add(p)
		h.p = p
		err = p.waitFor(ctx, "ready", ready)
		if err == nil {
			break
		}
		if errors.Is(err, errBroken) || strings.Contains(err.Error(), hydraLostTables) {
			if attempt < hydraStarts && ctx.Err() == nil {
				p.stop()
				continue
			}
		}
		h.closeApp()
		return nil, err
	}
	if h.ClientID, err = h.NewClient(ctx, ClientOptions{}); err != nil {
		return nil, err
	}
	h.AttendedClientSecret = randomHex(24)
	if h.AttendedClientID, err = h.NewClient(ctx, ClientOptions{RedirectURIs: AttendedRedirectURIs, Secret: h.AttendedClientSecret}); err != nil {
		return nil, err
	}
	return h, nil
}

// hydraLostTables is what Hydra answers once its in-memory database
// (DSN=memory) has lost its tables, seen once under load in CI: it
// never recovers, so the stack starts Hydra again, at most hydraStarts
// times in all.
const (
	hydraLostTables = "Unable to locate the table"
	hydraStarts     = 3
)

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>CERN Single Sign-On (test)</title></head>
<body>
<h1>Sign in</h1>
<p id="client">{{.Client}}</p>
{{if .Error}}<p id="error" style="color:#b00">{{.Error}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="challenge" value="{{.Challenge}}">
<label>Username <input id="username" name="username" autocomplete="username"></label>
<label>Password <input id="password" name="password" type="password" autocomplete="current-password"></label>
<button id="submit" type="submit" name="action" value="login">Sign in</button>
<button id="deny" type="submit" name="action" value="deny">Cancel</button>
</form>
</body></html>`))

func (h *Hydra) appHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", h.getLogin)
	mux.HandleFunc("POST /login", h.postLogin)
	mux.HandleFunc("GET /consent", h.consent)
	mux.HandleFunc("GET /error", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "<!doctype html><p id=\"error\">%s: %s</p>", template.HTMLEscapeString(r.URL.Query().Get("error")), template.HTMLEscapeString(r.URL.Query().Get("error_description")))
	})
	mux.HandleFunc("GET /logout", func(w http.ResponseWriter, r *http.Request) {
		c := r.URL.Query().Get("logout_challenge")
		var out struct {
			RedirectTo string `json:"redirect_to"`
		}
		if err := h.admin.Do(r.Context(), "PUT", "/admin/oauth2/auth/requests/logout/accept?logout_challenge="+url.QueryEscape(c), nil, &out); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		http.Redirect(w, r, out.RedirectTo, http.StatusFound)
	})
	return mux
}

type loginRequest struct {
	Skip    bool   `json:"skip"`
	Subject string `json:"subject"`
	Client  struct {
		ClientID string `json:"client_id"`
	} `json:"client"`
}

func (h *Hydra) getLogin(w http.ResponseWriter, r *http.Request) {
	challenge := r.URL.Query().Get("login_challenge")
	var lr loginRequest
	if err := h.admin.Do(r.Context(), "GET", "/admin/oauth2/auth/requests/login?login_challenge="+url.QueryEscape(challenge), nil, &lr); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if lr.Skip {
		h.acceptLogin(w, r, challenge, lr.Subject, "") // no credentials typed: no step-up acr
		return
	}
	h.renderLogin(w, challenge, lr.Client.ClientID, "")
}

func (h *Hydra) renderLogin(w http.ResponseWriter, challenge, client, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = loginPage.Execute(w, map[string]string{"Challenge": challenge, "Client": client, "Error": msg})
}

func (h *Hydra) postLogin(w http.ResponseWriter, r *http.Request) {
	challenge := r.PostFormValue("challenge")
	if r.PostFormValue("action") == "deny" {
		h.redirectAfter(w, r, "/admin/oauth2/auth/requests/login/reject?login_challenge="+url.QueryEscape(challenge),
			map[string]string{"error": "access_denied", "error_description": "The user cancelled the login."})
		return
	}
	h.mu.Lock()
	u, ok := h.users[r.PostFormValue("username")]
	good := ok && u.Password == r.PostFormValue("password")
	h.mu.Unlock()
	if !good {
		h.renderLogin(w, challenge, "", "Invalid username or password.")
		return
	}
	h.acceptLogin(w, r, challenge, u.Username, StepUpACR)
}

// acceptLogin accepts the login of subject; acr (when set) goes into the
// ID token.
func (h *Hydra) acceptLogin(w http.ResponseWriter, r *http.Request, challenge, subject, acr string) {
	body := map[string]any{"subject": subject, "remember": true, "remember_for": 3600}
	if acr != "" {
		body["acr"] = acr
	}
	h.redirectAfter(w, r, "/admin/oauth2/auth/requests/login/accept?login_challenge="+url.QueryEscape(challenge), body)
}

func (h *Hydra) redirectAfter(w http.ResponseWriter, r *http.Request, path string, body any) {
	var out struct {
		RedirectTo string `json:"redirect_to"`
	}
	if err := h.admin.Do(r.Context(), "PUT", path, body, &out); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	http.Redirect(w, r, out.RedirectTo, http.StatusFound)
}

func (h *Hydra) consent(w http.ResponseWriter, r *http.Request) {
	challenge := r.URL.Query().Get("consent_challenge")
	var cr struct {
		Subject        string   `json:"subject"`
		RequestedScope []string `json:"requested_scope"`
		RequestedAud   []string `json:"requested_access_token_audience"`
		Client         struct {
			ClientID string `json:"client_id"`
		} `json:"client"`
	}
	if err := h.admin.Do(r.Context(), "GET", "/admin/oauth2/auth/requests/consent?consent_challenge="+url.QueryEscape(challenge), nil, &cr); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	h.mu.Lock()
	u, ok := h.users[cr.Subject]
	h.mu.Unlock()
	if !ok {
		h.redirectAfter(w, r, "/admin/oauth2/auth/requests/consent/reject?consent_challenge="+url.QueryEscape(challenge),
			map[string]string{"error": "access_denied", "error_description": "unknown user"})
		return
	}
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	idToken := map[string]any{
		"cern_upn":           u.UPN,
		"cern_roles":         roles,
		"name":               u.Name,
		"email":              u.Email,
		"preferred_username": u.Username,
		"resource_access":    map[string]any{cr.Client.ClientID: map[string]any{"roles": roles}},
	}
	h.redirectAfter(w, r, "/admin/oauth2/auth/requests/consent/accept?consent_challenge="+url.QueryEscape(challenge), map[string]any{
		"grant_scope":                 cr.RequestedScope,
		"grant_access_token_audience": cr.RequestedAud,
		"remember":                    false,
		"session":                     map[string]any{"id_token": idToken},
	})
}

// Tokens is what the token endpoint returned.
type Tokens struct {
	IDToken      string `json:"id_token"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
}

// Login signs a user in through the real login form with a plain HTTP
// client (no browser): authorization code + PKCE for the given client,
// then the token exchange. It is the fast way for tests that need an ID
// token but do not test the browser part.
func (h *Hydra) Login(ctx context.Context, clientID, username, password string) (*Tokens, error) {
	jar, _ := cookiejar.New(nil)
	const redirect = "http://127.0.0.1/callback"
	var code string
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirect) {
			code = req.URL.Query().Get("code")
			if code == "" {
				return fmt.Errorf("no code in callback: %s", req.URL.Query().Get("error_description"))
			}
			return http.ErrUseLastResponse
		}
		return nil
	}}
	verifier := randomHex(32)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"client_id":             {clientID},
		"response_type":         {"code"},
		"scope":                 {"openid profile email offline_access offline"},
		"redirect_uri":          {redirect},
		"state":                 {randomHex(8)},
		"nonce":                 {randomHex(8)},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", h.IssuerURL+"oauth2/auth?"+q.Encode(), nil)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if code == "" {
		// At the form: post the credentials.
		form := resp.Request.URL
		if !strings.HasPrefix(form.String(), h.AppURL+"/login") {
			return nil, fmt.Errorf("expected the login form, got %s: %s", form, body)
		}
		v := url.Values{"challenge": {form.Query().Get("login_challenge")}, "username": {username}, "password": {password}, "action": {"login"}}
		req, _ = http.NewRequestWithContext(ctx, "POST", h.AppURL+"/login", strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err = hc.Do(req)
		if err != nil {
			return nil, err
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if code == "" {
		if strings.Contains(string(body), "Invalid username or password") {
			return nil, errors.New("login refused: invalid username or password")
		}
		return nil, fmt.Errorf("login did not reach the callback (at %s): %s", resp.Request.URL, body)
	}
	v := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "client_id": {clientID}, "code_verifier": {verifier}}
	return h.token(ctx, v)
}

// Refresh runs the refresh grant.
func (h *Hydra) Refresh(ctx context.Context, clientID, refreshToken string) (*Tokens, error) {
	return h.token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}, "client_id": {clientID}})
}

func (h *Hydra) token(ctx context.Context, v url.Values) (*Tokens, error) {
	req, _ := http.NewRequestWithContext(ctx, "POST", h.IssuerURL+"oauth2/token", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("token endpoint: %d: %s", resp.StatusCode, body)
	}
	var t Tokens
	if err := json.Unmarshal(body, &t); err != nil {
		return nil, err
	}
	return &t, nil
}
