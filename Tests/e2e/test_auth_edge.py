"""The foundation's "done means", tried as a new user would: through the edge, with plain HTTP."""
import uuid

from conftest import assert_error


def test_register_login_refresh_verify_profile(api):
    credentials, session = api.register("flow")
    user = session["user"]
    assert set(user) >= {"id", "username", "email", "avatarUrl", "createdAt", "updatedAt"}
    assert "password" not in {key.lower() for key in user}
    assert "$2b$" not in str(session)
    assert session["expiresIn"] == 900

    login = api.request(
        "POST", "/api/v1/auth/login", json={"email": credentials["email"], "password": credentials["password"]}
    )
    assert login.status_code == 200, login.text
    tokens = login.json()

    refreshed = api.request("POST", "/api/v1/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["refreshToken"] != tokens["refreshToken"]
    token = refreshed.json()["token"]

    verify = api.request("GET", "/api/v1/auth/verify", token=token)
    assert verify.status_code == 200
    assert verify.json()["valid"] is True
    assert verify.json()["user"]["id"] == user["id"]

    me = api.request("GET", "/api/v1/users/me", token=token)
    assert me.status_code == 200
    assert me.json()["email"] == credentials["email"]

    new_name = f"ed_{uuid.uuid4().hex[:10]}"
    patched = api.request(
        "PATCH", f"/api/v1/users/{user['id']}", json={"username": new_name, "avatarUrl": "https://cdn.example/a.png"}, token=token
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["username"] == new_name
    assert patched.json()["avatarUrl"] == "https://cdn.example/a.png"


def test_replaying_a_rotated_refresh_token_kills_the_family(api):
    _, session = api.register("replay")
    first = session["refreshToken"]
    second = api.request("POST", "/api/v1/auth/refresh", json={"refreshToken": first}).json()["refreshToken"]
    assert_error(api.request("POST", "/api/v1/auth/refresh", json={"refreshToken": first}), 401, "REFRESH_TOKEN_REUSED")
    assert_error(api.request("POST", "/api/v1/auth/refresh", json={"refreshToken": second}), 401)


def test_logout_ends_the_login(api):
    _, session = api.register("bye")
    response = api.request("POST", "/api/v1/auth/logout", json={"refreshToken": session["refreshToken"]})
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert_error(api.request("POST", "/api/v1/auth/refresh", json={"refreshToken": session["refreshToken"]}), 401)


def test_thirty_rapid_wrong_logins_get_429_with_retry_after(api):
    credentials, _ = api.register("brute")
    statuses = []
    limited = None
    for _ in range(30):
        response = api.request("POST", "/api/v1/auth/login", json={"email": credentials["email"], "password": "wrong guess!"})
        statuses.append(response.status_code)
        if response.status_code == 429:
            limited = response
    assert set(statuses) <= {401, 429}
    assert 429 in statuses, statuses
    assert statuses.index(429) > 0
    assert int(limited.headers["Retry-After"]) >= 1
    assert_error(limited, 429, "RATE_LIMITED")


def test_wrong_password_and_unknown_email_look_the_same(api):
    credentials, _ = api.register("enum")
    wrong = api.request("POST", "/api/v1/auth/login", json={"email": credentials["email"], "password": "not it at all"})
    unknown = api.request(
        "POST", "/api/v1/auth/login", json={"email": f"ghost.{uuid.uuid4().hex}@example.com", "password": "not it at all"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_bad_input_gets_4xx_in_the_common_shape(api):
    register = "/api/v1/auth/register"
    assert_error(api.request("POST", register, json={}), 400, "VALIDATION_FAILED")
    assert_error(api.request("POST", register, json={"username": 12, "email": [], "password": None}), 400, "VALIDATION_FAILED")
    assert_error(
        api.request("POST", register, data="{not json", headers={"Content-Type": "application/json"}), 400, "INVALID_JSON"
    )
    assert_error(api.request("POST", register, data="username=x", headers={"Content-Type": "text/plain"}), 415)
    huge = '{"username":"' + "x" * (2 * 1024 * 1024) + '"}'
    assert_error(api.request("POST", register, data=huge, headers={"Content-Type": "application/json"}), 413, "PAYLOAD_TOO_LARGE")
    assert_error(
        api.request("POST", register, json={"username": "ok_name", "email": "nope", "password": "short", "confirmPassword": "x"}),
        400,
        "VALIDATION_FAILED",
    )

    _, session = api.register("bad")
    token = session["token"]
    assert_error(api.request("PATCH", "/api/v1/users/not-a-uuid", json={"username": "abc"}, token=token), 400)
    assert_error(api.request("PATCH", f"/api/v1/users/{uuid.uuid4()}", json={"username": "abc"}, token=token), 403, "FORBIDDEN")
    assert_error(
        api.request("PATCH", f"/api/v1/users/{session['user']['id']}", json={"avatarUrl": "ftp://x.example/a"}, token=token),
        400,
    )
    assert_error(api.request("GET", "/api/v1/users/me"), 401, "UNAUTHORIZED")
    assert_error(api.request("GET", "/api/v1/users/me", token="garbage"), 401, "UNAUTHORIZED")
    assert_error(api.request("GET", "/api/v1/nothing-here"), 404, "NOT_FOUND")


def test_duplicates_are_conflicts(api):
    credentials, _ = api.register("twin")
    again = {**credentials, "confirmPassword": credentials["password"]}
    assert_error(api.request("POST", "/api/v1/auth/register", json=again), 409, "USERNAME_TAKEN")
    again["username"] = f"tw_{uuid.uuid4().hex[:10]}"
    assert_error(api.request("POST", "/api/v1/auth/register", json=again), 409, "EMAIL_TAKEN")


def test_security_headers_and_jwks_through_the_edge(api):
    response = api.request("GET", "/.well-known/jwks.json")
    assert response.status_code == 200
    key = response.json()["keys"][0]
    assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and key["alg"] == "EdDSA"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers.get("X-Request-Id")



def test_a_method_a_path_lacks_is_405_with_allow(api):
    _, session = api.register("allow")
    login = api.request("TRACE", "/api/v1/auth/login")
    assert_error(login, 405, "METHOD_NOT_ALLOWED")
    assert login.headers["Allow"] == "POST"
    me = api.request("PATCH", "/api/v1/users/me", json={"username": "x_y_z"}, token=session["token"])
    assert_error(me, 405, "METHOD_NOT_ALLOWED")
    assert me.headers["Allow"] == "GET"
    assert_error(api.request("TRACE", "/api/v1/auth/nowhere"), 404)
