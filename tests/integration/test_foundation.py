"""The app factory end to end: home page languages, security headers, health, errors."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.support.web import csrf_token


def test_home_is_italian_by_default(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="it">' in html
    assert "Servizi di welfare nel tuo quartiere" in html


def test_home_follows_accept_language(client: FlaskClient) -> None:
    html = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Welfare services in your neighbourhood" in html


def test_language_switcher_sets_a_cookie_that_wins_over_accept_language(
    client: FlaskClient,
) -> None:
    token = csrf_token(client)
    response = client.post("/language", data={"lang": "en", "next": "/", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    html = client.get("/", headers={"Accept-Language": "it"}).get_data(as_text=True)
    assert '<html lang="en">' in html


def test_language_switcher_refuses_foreign_redirects_and_unknown_languages(
    client: FlaskClient,
) -> None:
    token = csrf_token(client)
    response = client.post(
        "/language", data={"lang": "it", "next": "https://evil.example/", "csrf_token": token}
    )
    assert response.headers["Location"] == "/"
    response = client.post(
        "/language", data={"lang": "it", "next": "//evil.example/", "csrf_token": token}
    )
    assert response.headers["Location"] == "/"
    assert client.post("/language", data={"lang": "xx", "csrf_token": token}).status_code == 400


def test_a_post_without_csrf_token_is_refused_with_a_localized_400(client: FlaskClient) -> None:
    response = client.post("/language", data={"lang": "en"})
    assert response.status_code == 400
    assert "Il modulo è scaduto" in response.get_data(as_text=True)
    response = client.post(
        "/language",
        data={"lang": "en", "csrf_token": "tampered"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)


def test_security_headers_are_on_every_response(client: FlaskClient) -> None:
    for path in ("/", "/does-not-exist", "/healthz"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in headers  # only in production


def test_healthz_checks_the_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_unknown_page_is_a_localized_404(client: FlaskClient) -> None:
    response = client.get("/nowhere", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert "does not exist" in response.get_data(as_text=True)


def test_static_bootstrap_italia_is_served_locally(client: FlaskClient) -> None:
    response = client.get("/static/vendor/bootstrap-italia/css/bootstrap-italia.min.css")
    assert response.status_code == 200
    response.close()
