"""A service that cannot start says why on one line of standard error and exits with a status
(78 for a refused setting, sysexits' EX_CONFIG), instead of crashing or hanging."""
import os
import socket
import subprocess

import pytest

BIN_DIR = os.environ.get("VOICEFLOW_BIN_DIR")
SERVICES = ("auth", "rooms", "messages", "gateway", "signaling")
# Generous: a refusal takes milliseconds; this only keeps a hung process from hanging the suite.
EXIT_TIMEOUT = 60

pytestmark = pytest.mark.skipif(not BIN_DIR, reason="needs VOICEFLOW_BIN_DIR (set by `make test`)")


def run(service, **settings):
    environment = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG")}
    environment.update(settings)
    return subprocess.run([os.path.join(BIN_DIR, f"voiceflow-{service}")], env=environment, capture_output=True, text=True,
                          timeout=EXIT_TIMEOUT, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("service", SERVICES)
def test_a_placeholder_secret_in_production_is_refused_with_status_78(service):
    result = run(service, APP_ENV="production", PORT="0", DATABASE_URL="postgres://voiceflow:s3cret-a1b2c3d4e5f6@127.0.0.1:1/voiceflow",
                 REDIS_URL="redis://:change-me-too@127.0.0.1:1/0", JWT_PUBLIC_KEY="unused")
    assert result.returncode == 78, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert lines == [f"voiceflow-{service}: REDIS_URL still holds a placeholder or default secret; "
                     "set a long random one (e.g. openssl rand -hex 32) when APP_ENV=production"], result.stderr
    assert "change-me-too" not in result.stdout + result.stderr


@pytest.mark.parametrize("service", SERVICES + ("web",))
def test_an_unparsable_setting_is_refused_with_status_78(service):
    result = run(service, PORT="eighty")
    assert result.returncode == 78, (result.returncode, result.stderr)
    assert result.stderr.startswith(f"voiceflow-{service}: Invalid value for PORT"), result.stderr
    assert "Fatal error" not in result.stderr


def test_a_port_in_use_ends_the_service_with_status_1(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("web", PORT=str(port), HOST="127.0.0.1", WEB_ROOT=str(tmp_path))
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert result.stderr.splitlines()[-1].startswith("voiceflow-web: "), result.stderr
    assert "Fatal error" not in result.stderr
