"""A connect storm does not get a gateway ejected.

When a gateway dies, its clients reconnect to the others all at once. Here 2,000 authenticated
sockets (CONNECT_STORM_SOCKETS) connect to one gateway as fast as this client can open them, while
another process probes that gateway's /ready every 100 ms the way the edge does. Every probe must
answer 200: the edge drops a gateway after two failed checks. Handshakes beyond the gateway's
admission rate are closed with 1013 (try again later) and retried, as clients back off; in the end
every socket is connected. How long the probes took is the benchmark's business
(`scripts/bench-gateway.py --storm 2000`), not a pass/fail threshold here.
"""
import json
import os
import random
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import websocket

from test_gateway import gateway

SOCKETS = int(os.environ.get("CONNECT_STORM_SOCKETS", "2000"))
CLIENT_THREADS = 100

PROBE = """
import signal, sys, time, requests
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    try:
        status = requests.get(sys.argv[1] + "/ready", timeout=2, headers={"Connection": "close"}).status_code
    except requests.RequestException as error:
        status = type(error).__name__
    print(status, flush=True)
    time.sleep(0.1)
"""


def open_socket(url, token):
    """A raw Socket.IO connection over WebSocket; retried while the gateway says try again later."""
    for _attempt in range(200):
        ws = websocket.create_connection(url, timeout=30)
        opcode, data = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            code = int.from_bytes(data[:2], "big")
            ws.close()
            assert code in (1008, 1013), f"closed with {code} {data[2:]!r}"
            time.sleep(0.5 + random.random())  # backing off as told, with jitter; nothing to await
            continue
        assert data.decode().startswith("0"), data
        ws.send("40" + json.dumps({"token": token}))
        while True:
            answer = ws.recv()
            if answer == "2":
                ws.send("3")
                continue
            assert answer.startswith("40{"), answer
            return ws
    raise AssertionError("the gateway kept refusing the handshake")


def test_a_connect_storm_keeps_the_gateway_ready(api):
    _, user = api.register("storm")
    base = gateway(0)
    url = base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    prober = subprocess.Popen([sys.executable, "-c", PROBE, base], stdout=subprocess.PIPE, text=True)
    opened = []
    lock = threading.Lock()
    try:
        def worker(count):
            for _ in range(count):
                ws = open_socket(url, user["token"])
                with lock:
                    opened.append(ws)

        per_thread = [SOCKETS // CLIENT_THREADS + (1 if i < SOCKETS % CLIENT_THREADS else 0) for i in range(CLIENT_THREADS)]
        with ThreadPoolExecutor(CLIENT_THREADS) as pool:
            for future in [pool.submit(worker, count) for count in per_thread]:
                future.result()
    finally:
        prober.terminate()
        output, _ = prober.communicate(timeout=10)
        for ws in opened:
            ws.shutdown()  # the TCP connection drops: the gateway cleans up as after a lost client
    assert len(opened) == SOCKETS
    answers = output.split()
    assert answers, "no /ready probe completed"
    assert set(answers) == {"200"}, f"/ready answered otherwise during the storm: {sorted(set(answers))} ({len(answers)} probes)"
