"""A small OpenID Connect provider for tests: discovery, authorize (no login form), token, keys.

It stands in for the city's 政务统一身份认证 over real HTTP, so citycase's client (Authlib) fetches the
discovery document, redirects, exchanges the code and checks the signed ID token as it would in
production. ``forge`` signs the next ID token with a key that is not published.
"""

from __future__ import annotations

import secrets
import threading
import time
from urllib.parse import urlencode

from flask import Flask, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import WSGIRequestHandler, make_server


class _Quiet(WSGIRequestHandler):
    """No access-log line per request (they would mix into the CLI output the tests read)."""

    def log_request(self, *args, **kwargs) -> None:
        pass


class Provider:
    def __init__(self, client_id: str = "citycase", client_secret: str = "s3cret") -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        self.username = "acceptor1"
        self.forge = False
        self._codes: dict[str, str] = {}
        self.app = self._make_app()
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True, request_handler=_Quiet)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Provider:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()

    def _id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": f"gov-{self.username}", "aud": self.client_id, "iat": now,
                  "exp": now + 300, "nonce": nonce, "preferred_username": self.username}
        key = RSAKey.generate_key(2048, parameters={"kid": "k1"}) if self.forge else self.key
        return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)

    def _make_app(self) -> Flask:
        app = Flask("oidc-provider")

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify({"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                            "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                            "response_types_supported": ["code"], "subject_types_supported": ["public"],
                            "id_token_signing_alg_values_supported": ["RS256"]})

        @app.get("/jwks")
        def jwks():
            return jsonify(KeySet([self.key]).as_dict(private=False))

        @app.get("/authorize")
        def authorize():
            assert request.args["client_id"] == self.client_id and request.args["response_type"] == "code"
            code = secrets.token_urlsafe(8)
            self._codes[code] = request.args.get("nonce", "")
            query = urlencode({"code": code, "state": request.args["state"]})
            return redirect(f"{request.args['redirect_uri']}?{query}")

        @app.post("/token")
        def token():
            auth = request.authorization
            if auth is None or (auth.username, auth.password) != (self.client_id, self.client_secret):
                return jsonify({"error": "invalid_client"}), 401
            nonce = self._codes.pop(request.form.get("code", ""), None)
            if nonce is None:
                return jsonify({"error": "invalid_grant"}), 400
            return jsonify({"access_token": secrets.token_urlsafe(8), "token_type": "Bearer", "expires_in": 300,
                            "id_token": self._id_token(nonce)})

        return app
