#!/usr/bin/env bash
# TLS client authentication with the simulated My Number Card, as a relying
# party tests it (examples/README.md, docs/cli.md "A TLS login with the
# card"): openssl s_server trusts the sim's user-authentication CA and
# checks its CRL; openssl s_client signs the TLS 1.2 handshake with the
# card's authentication key through OpenSC's PKCS#11 module (libp11's
# pkcs11 engine, Debian package libengine-pkcs11-openssl).
#
# Run from a checkout, after 'make build', with pcscd serving vpcd:
#   scripts/with-pcscd -- examples/tlslogin/tls-login.sh
#
# The card signs only PKCS#1 v1.5, as a real My Number Card does: TLS 1.2
# with -sigalgs RSA+SHA256 works; TLS 1.3 and RSA-PSS fail, and the script
# checks that they do. Then the card is reported lost and the server, with
# the new CRL, refuses the same login.
set -euo pipefail
MYNAHIL=${MYNAHIL:-bin/mynahil}
RP=${RP:-127.0.0.1:18080}    # the sim's CA, CRL and OCSP endpoints (--relying-party)
TLS=${TLS:-127.0.0.1:18443}  # openssl s_server
export MYNAHIL_STATE=${MYNAHIL_STATE:-$(mktemp -d)}
export MYNAHIL_AUTH_PIN=${MYNAHIL_AUTH_PIN:-1234}   # the simulated card's auth PIN; never in argv
W=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT

"$MYNAHIL" sim --relying-party "$RP" 2>"$W/sim.log" & pids+=($!)
"$MYNAHIL" sim wait --timeout 60s

# The relying party: the sim's auth CA and CRL, and a server certificate of its own.
curl -sfo "$W/auth-ca.der" "http://$RP/ca/auth.der"
openssl x509 -inform DER -in "$W/auth-ca.der" -out "$W/auth-ca.pem"
fetch_crl() {
	curl -sfo "$W/auth.crl" "http://$RP/crl/auth.crl"
	openssl crl -inform DER -in "$W/auth.crl" -out "$W/auth-crl.pem"
}
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 \
	-keyout "$W/server.key" -out "$W/server.pem" 2>/dev/null
start_server() {
	openssl s_server -accept "$TLS" -cert "$W/server.pem" -key "$W/server.key" \
		-CAfile "$W/auth-ca.pem" -CRL "$W/auth-crl.pem" -crl_check \
		-Verify 1 -verify_return_error -www >"$W/s_server.log" 2>&1 &
	server=$!
	pids+=("$server")
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/${TLS%:*}/${TLS#*:}") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "s_server did not start:"; cat "$W/s_server.log"; return 1
}
stop_server() { kill "$server"; wait "$server" 2>/dev/null || true; }

# The client: OpenSC's PKCS#11 module behind libp11's pkcs11 engine.
cat >"$W/engine.cnf" <<CNF
openssl_conf = init
[init]
engines = engines
[engines]
pkcs11 = pkcs11
[pkcs11]
engine_id = pkcs11
MODULE_PATH = ${OPENSC_PKCS11:-$(ls /usr/lib/*/opensc-pkcs11.so /usr/lib/opensc-pkcs11.so 2>/dev/null | head -1)}
CNF
pkcs15-tool --read-certificate 01 >"$W/card-auth.pem"   # the card's user-authentication certificate
KEY="pkcs11:token=JPKI%20(User%20Authentication%20PIN);object=User%20Authentication%20Key;type=private"
login() { # login VERSION-AND-SIGALG-FLAGS…: a TLS handshake and one HTTP GET
	printf 'GET / HTTP/1.0\r\n\r\n' | OPENSSL_CONF="$W/engine.cnf" openssl s_client -connect "$TLS" \
		-engine pkcs11 -keyform engine -key "$KEY" -cert "$W/card-auth.pem" -pass env:MYNAHIL_AUTH_PIN \
		-CAfile "$W/server.pem" -verify_return_error -ign_eof "$@" >"$W/s_client.log" 2>&1
}

fetch_crl
start_server
if ! login -tls1_2 -sigalgs RSA+SHA256 || ! grep -q "Client certificate" "$W/s_client.log"; then
	echo "FAIL: TLS 1.2 login with RSA+SHA256"; cat "$W/s_client.log"; exit 1
fi
echo "ok: TLS 1.2 login, the card signed RSA+SHA256 (PKCS#1 v1.5)"
if login -tls1_3; then
	echo "FAIL: TLS 1.3 login succeeded (the card cannot sign RSA-PSS)"; exit 1
fi
# why shows the client's first error; the refusal must come from the
# PKCS#11 module, which offers no RSA-PSS mechanism for the card's key.
why() {
	grep -m1 -iE 'error|alert|fail' "$W/s_client.log" | sed 's/^/  client: /'
	grep -q 'Mechanism invalid' "$W/s_client.log" || { echo "FAIL: refused for another reason:"; cat "$W/s_client.log"; exit 1; }
}
echo "ok: TLS 1.3 refused: it needs RSA-PSS, which the card does not sign"; why
if login -tls1_2 -sigalgs RSA-PSS+SHA256; then
	echo "FAIL: TLS 1.2 with RSA-PSS succeeded"; exit 1
fi
echo "ok: TLS 1.2 with RSA-PSS refused"; why
stop_server

# The card is reported lost: both certificates revoked (keyCompromise), the
# chip as it was (the office does not hold it), so whoever holds the card and
# knows the PIN can still sign: only the CRL stops the login.
"$MYNAHIL" office report-loss --card card-1 >/dev/null
"$MYNAHIL" sim wait --timeout 60s
fetch_crl
start_server
if login -tls1_2 -sigalgs RSA+SHA256; then
	echo "FAIL: login with a revoked certificate succeeded"; exit 1
fi
grep -q "certificate revoked" "$W/s_server.log" || { echo "FAIL: the server did not say revoked:"; cat "$W/s_server.log"; exit 1; }
echo "ok: after office report-loss the server, with the new CRL, refuses the login: certificate revoked"
