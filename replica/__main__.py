"""Run the replica by hand: `python -m replica --port 8080` (the police portal takes the next port)."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading

from .corpus import CITY, POLICE
from .server import Replica, ReplicaOptions


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m replica", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="city portal port; the police portal gets port+1 (0: any free ports)")
    parser.add_argument("--articles", type=int, default=1000, help="articles per portal")
    parser.add_argument("--seed", type=int, default=ReplicaOptions.seed)
    parser.add_argument("--fault-rate", type=float, default=ReplicaOptions.fault_rate)
    args = parser.parse_args(argv)
    options = ReplicaOptions(articles_per_site=args.articles, seed=args.seed, fault_rate=args.fault_rate)
    replica = Replica(options, host=args.host, city_port=args.port, police_port=args.port + 1 if args.port else 0).start()
    print(f"city portal:   {replica.base_url(CITY)}")
    print(f"police portal: {replica.base_url(POLICE)}")
    print("ground truth:  /__replica__/truth.json on either; Ctrl-C stops", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    replica.stop()


if __name__ == "__main__":
    main()
