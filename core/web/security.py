"""Security headers: CSP without inline scripts, framing refused, HSTS in production."""

from __future__ import annotations

from flask import Flask, Response

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Permissions-Policy", "geolocation=(), camera=(), microphone=(), payment=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
HSTS = ("Strict-Transport-Security", "max-age=63072000; includeSubDomains")


def install_security_headers(app: Flask) -> None:
    """Add the security headers to every response (a view's own value of one is kept)."""
    wanted = (*HEADERS, HSTS) if app.config.get("CONCILIA_ENV") == "production" else HEADERS

    @app.after_request
    def _headers(response: Response) -> Response:
        present = {name.lower() for name, _value in response.headers.items()}  # one pass
        response.headers.extend([(k, v) for k, v in wanted if k.lower() not in present])
        return response
