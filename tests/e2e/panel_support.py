"""An operator in the panel through chalice.test.Client: signs in, keeps the cookie and the CSRF token, posts
forms as a browser does."""
from __future__ import annotations

import re
from urllib.parse import urlencode

from chalicelib.domain.distributors import AdminActor
from chalicelib.domain.operators import Role

PASSWORD = "correct horse battery"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SETUP = AdminActor("cli")


def make_operator(container, name: str = "alice", role: Role = Role.OPERATOR, password: str = PASSWORD):
    return container.operators.create(SETUP, name, role, password)


def signed_in(container, client, name: str = "alice", role: Role = Role.OPERATOR) -> "Browser":
    """A panel browser of a new operator, signed in."""
    make_operator(container, name, role)
    browser = Browser(client)
    browser.sign_in(name)
    return browser


def headers(response) -> dict[str, str]:
    return {name.lower(): value for name, value in response.headers.items()}


class Browser:
    def __init__(self, client, area: str = "panel") -> None:
        self.client = client
        self.area = area
        self.cookie = ""
        self.csrf = ""

    def sign_in(self, name: str = "alice", password: str = PASSWORD, source_ip: str | None = None):
        response = self.client.http.post(f"/{self.area}/sign-in", headers=FORM,
                                         body=urlencode({"name": name, "password": password}))
        self._keep(response)
        return response

    def _keep(self, response) -> None:
        cookie = headers(response).get("set-cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]

    def get(self, path: str):
        response = self.client.http.get(path, headers={"Cookie": self.cookie})
        found = re.search(rb'name="csrf" value="([^"]+)"', response.body or b"")
        if found:
            self.csrf = found.group(1).decode()
        return response

    def post(self, path: str, fields: dict | None = None, csrf: str | None = None):
        body = {"csrf": self.csrf if csrf is None else csrf, **(fields or {})}
        response = self.client.http.post(path, headers={**FORM, "Cookie": self.cookie}, body=urlencode(body))
        self._keep(response)
        return response
