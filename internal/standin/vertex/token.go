package vertex

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
)

// ClientEmail is the service account of the key the stand-in makes.
const ClientEmail = "tuneline-test@standin-project.iam.gserviceaccount.com"

// jwtBearer is the grant a service-account key's signed JWT is exchanged
// with (RFC 7523).
const jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// WriteServiceAccountKey writes a service-account key file, as the Cloud
// console downloads one, whose token_uri is this stand-in's token endpoint;
// point GOOGLE_APPLICATION_CREDENTIALS at it.
func (s *Server) WriteServiceAccountKey(path string) error {
	s.mu.Lock()
	if s.key == nil {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			s.mu.Unlock()
			return err
		}
		s.key = k
	}
	key := s.key
	s.mu.Unlock()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(map[string]string{
		"type":                        "service_account",
		"project_id":                  "standin-project",
		"private_key_id":              "standin-key-1",
		"private_key":                 string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":                ClientEmail,
		"client_id":                   "100000000000000000001",
		"auth_uri":                    "https://accounts.google.com/o/oauth2/auth",
		"token_uri":                   s.URL + "/token",
		"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
	}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// token exchanges a JWT signed with the service account's key for an
// access token: the signature (RS256), issuer, audience (this endpoint),
// scope and expiry are checked as Google's endpoint checks them.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	bad := func(desc string) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": desc})
	}
	if err := r.ParseForm(); err != nil {
		bad(err.Error())
		return
	}
	if g := r.PostForm.Get("grant_type"); g != jwtBearer {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "Invalid grant_type: " + g})
		return
	}
	s.mu.Lock()
	key := s.key
	s.mu.Unlock()
	if key == nil {
		bad("Invalid JWT Signature.")
		return
	}
	parts := strings.Split(r.PostForm.Get("assertion"), ".")
	if len(parts) != 3 {
		bad("Invalid JWT: not three parts")
		return
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		bad("Invalid JWT Signature.")
		return
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		bad("Invalid JWT Signature.")
		return
	}
	var hdr struct{ Alg, Typ, Kid string }
	var claims struct {
		Iss   string `json:"iss"`
		Aud   string `json:"aud"`
		Scope string `json:"scope"`
		Iat   int64  `json:"iat"`
		Exp   int64  `json:"exp"`
	}
	if decodePart(parts[0], &hdr) != nil || decodePart(parts[1], &claims) != nil || hdr.Alg != "RS256" {
		bad("Invalid JWT header or claims")
		return
	}
	now := time.Now().Unix()
	switch {
	case claims.Iss != ClientEmail:
		bad("Invalid issuer: " + claims.Iss)
		return
	case claims.Aud != s.URL+"/token":
		bad("Invalid JWT audience: " + claims.Aud)
		return
	case !strings.Contains(" "+claims.Scope+" ", " https://www.googleapis.com/auth/cloud-platform "):
		bad("Invalid OAuth scope or ID token audience provided: " + claims.Scope)
		return
	case claims.Exp < now || claims.Iat > now+300 || claims.Exp-claims.Iat > 3600:
		bad("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.")
		return
	}
	s.mu.Lock()
	s.seq++
	tok := fmt.Sprintf("ya29.standin-%d", s.seq)
	s.tokens[tok] = claims.Iss
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3599})
}

func decodePart(p string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// Tokens counts the access tokens issued.
func (s *Server) Tokens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tokens)
}
