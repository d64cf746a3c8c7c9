#!/usr/bin/python3
"""Pushes one signed batch as a phone would: a new outfall and a first observation of it.

    python3 push_batch.py --url http://127.0.0.1:8080 --user surveyor1 --password ... \\
        --division 410882 --river danhe --lat 35.1 --lon 112.9

Signs in, enrolls a new phone key, sends the batch and prints each change's result as a line of
JSON: {"entity_id": ..., "status": "CHANGE_STATUS_APPLIED", "version": 1}. Exits 1 when a change
was rejected.
"""
import argparse
import json
import sys
import time

from outfall_client import Server, ServerError, change, pb, status_name


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--division", required=True, help="county code, e.g. 410882")
    ap.add_argument("--river", required=True, help="river code, e.g. danhe")
    ap.add_argument("--lat", type=float, required=True)
    ap.add_argument("--lon", type=float, required=True)
    ap.add_argument("--name", default="示例排口")
    a = ap.parse_args()

    srv = Server(a.url)
    srv.login(a.user, a.password)
    phone = srv.enroll("python push_batch example")
    now = int(time.time() * 1000)
    outfall = change(outfall=pb.Outfall(
        name=a.name, river_code=a.river, division_code=a.division, lat=a.lat, lon=a.lon,
        accuracy_m=4.0, type=pb.OUTFALL_TYPE_OTHER, landmark="示例：桥下左岸",
        responsible_party=pb.ResponsibleParty(name="示例责任单位")))
    outfall.client_time_ms = now
    observation = change(observation=pb.Observation(
        outfall_id=outfall.entity_id, observed_at_ms=now, lat=a.lat, lon=a.lon, accuracy_m=4.0,
        flowing=True, colour="清", odour="无", notes="示例观测"))
    answer = phone.sync([outfall, observation])
    rejected = False
    for c, r in zip([outfall, observation], answer.results):
        rejected |= r.status == pb.CHANGE_STATUS_REJECTED
        print(json.dumps({"entity_id": c.entity_id, "status": status_name(r.status),
                          "version": r.version, "reason": r.reason}, ensure_ascii=False))
    return 1 if rejected else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ServerError as e:  # the server's status, stable code and message
        sys.exit("error: %s" % e)
