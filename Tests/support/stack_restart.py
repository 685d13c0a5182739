"""How a test that killed a process of the local stack brings the stack back: `stack.sh up` with an
environment that restarts what is missing instead of building it again."""
import os


def restart_environment(pid, run_dir):
    """Ours, completed from the killed process's own environment (the settings this process lacks,
    but for its own PORT and database addresses) and pointed at the executables it ran."""
    env = dict(os.environ)
    try:
        with open(f"/proc/{pid}/environ", "rb") as raw:
            entries = [entry.decode(errors="replace").partition("=") for entry in raw.read().split(b"\0") if entry]
        for key, _, value in entries:
            if key not in ("PORT", "DATABASE_URL", "REDIS_URL") and key not in env:
                env[key] = value
    except OSError:
        pass
    if "VOICEFLOW_BIN_DIR" not in env:
        try:
            env["VOICEFLOW_BIN_DIR"] = os.path.dirname(os.readlink(f"/proc/{pid}/exe").removesuffix(" (deleted)"))
        except OSError:
            pass
    env.setdefault("VOICEFLOW_STATE_DIR", os.path.dirname(os.path.abspath(run_dir)))
    return env
