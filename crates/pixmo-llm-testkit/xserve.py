"""Serve a GGUF model with llama.cpp's OpenAI-compatible server (PyPI `xllamacpp`).

Usage: python xserve.py MODEL.gguf PORT [THREADS]

Binds 127.0.0.1 only. Prints `LISTENING <address>` once the server is up and exits when
its standard input closes (the test process ended) or on SIGTERM, so no server outlives
the test that started it.
"""

import signal
import sys
import threading

import xllamacpp as xlc


def main() -> None:
    model, port = sys.argv[1], int(sys.argv[2])
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    params = xlc.CommonParams()
    params.model.path = model
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.n_ctx = 2048
    params.n_parallel = 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    server = xlc.Server(params)  # the HTTP server runs on a background thread
    print("LISTENING", server.listening_address, flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def watch_stdin() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    stop.wait()
    sys.exit(0)


if __name__ == "__main__":
    main()
