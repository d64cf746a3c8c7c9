// Node's built-in fetch (undici) sending POSTs on its kept-alive connection, one after another
// with the gaps in SPACINGS (ms). Prints "ok N" after N answers of 200, else the first failure.
const gaps = process.env.SPACINGS.trim().split(/\s+/).map(Number);
const url = process.env.URL + "/v1/photos/missing";
const headers = {"Content-Type": "application/json", Authorization: "Bearer " + process.env.TOKEN};
(async () => {
  let n = 0;
  for (const ms of gaps) {
    await new Promise((r) => setTimeout(r, ms));
    const r = await fetch(url, {method: "POST", headers, body: JSON.stringify({hashes: []})});
    await r.text();
    if (r.status !== 200) throw new Error("status " + r.status);
    n++;
  }
  console.log("ok " + n);
})().catch((e) => {
  console.log("failed: " + (e.cause || e));
  process.exit(1);
});
