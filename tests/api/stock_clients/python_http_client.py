# Python's http.client on one HTTPConnection, sending POSTs with the gaps in SPACINGS (ms). It
# reconnects by itself only when it saw the server close; prints "ok N"; a failure raises.
import http.client
import os
import time
import urllib.parse

u = urllib.parse.urlparse(os.environ["URL"])
conn = http.client.HTTPConnection(u.hostname, u.port)
headers = {"Content-Type": "application/json", "Authorization": "Bearer " + os.environ["TOKEN"]}
n = 0
for ms in map(int, os.environ["SPACINGS"].split()):
    time.sleep(ms / 1000)
    conn.request("POST", "/v1/photos/missing", body='{"hashes":[]}', headers=headers)
    r = conn.getresponse()
    r.read()
    assert r.status == 200, r.status
    n += 1
print("ok", n)
