# Python's requests (urllib3) sending POSTs on one Session's kept-alive connection, with the gaps
# in SPACINGS (ms). Prints "ok N" after N answers of 200; a failure raises.
import os
import time

import requests

session = requests.Session()
url = os.environ["URL"] + "/v1/photos/missing"
headers = {"Authorization": "Bearer " + os.environ["TOKEN"]}
n = 0
for ms in map(int, os.environ["SPACINGS"].split()):
    time.sleep(ms / 1000)
    r = session.post(url, json={"hashes": []}, headers=headers)
    assert r.status_code == 200, r.status_code
    n += 1
print("ok", n)
