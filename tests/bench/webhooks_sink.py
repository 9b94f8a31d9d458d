#!/usr/bin/env python3
"""A fast loopback sink for tests/bench/webhooks_out.sh (asyncio, HTTP/1.1 keep-alive, standard
library only): answers every POST with 204 and appends one line per request to LOG, the arrival
time and the "t" of the body's data (the emit time the latency run puts there), flushed each second.

  webhooks_sink.py PORT LOG
"""
import asyncio
import json
import sys
import time

LINES = []


async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length) if length else b""
            now = time.time()
            t = ""
            if b'"t":' in body:
                t = json.loads(body)["data"].get("t", "")
            LINES.append("%.6f %s\n" % (now, t))
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def flush(log):
    while True:
        await asyncio.sleep(1)
        if LINES:
            chunk = "".join(LINES)
            LINES.clear()
            with open(log, "a") as f:
                f.write(chunk)


async def main(port, log):
    server = await asyncio.start_server(handle, "127.0.0.1", int(port), backlog=1024)
    asyncio.ensure_future(flush(log))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
