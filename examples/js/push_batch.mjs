// Pushes one signed batch as a phone would, with the generated Connect client: a new outfall and a
// first observation of it.
//
//   node push_batch.mjs --url http://127.0.0.1:8080 --user surveyor1 --password ... \
//       --division 410882 --river danhe --lat 35.1 --lon 112.9 [--name 示例排口] [--photo a.jpg]
//
// Signs in, enrolls a new phone key, and prints each change's result as a line of JSON:
// {"entityId": ..., "status": "APPLIED", "version": "1"}. With --photo, the observation names the
// photo by its BLAKE2b-256 and the answer's missing photos are printed (upload them by tus). Exits
// 1 when a change was rejected or the server refused the call.
import { readFileSync } from 'node:fs';
import { args, change, pb, photoHash, run, Server } from './outfall_client.mjs';

run(async () => {
  const a = args(process.argv.slice(2), ['url', 'user', 'password', 'division', 'river', 'lat', 'lon']);
  const srv = new Server(a.url);
  await srv.login(a.user, a.password);
  await srv.enroll('js push_batch example');
  const lat = Number(a.lat), lon = Number(a.lon), now = BigInt(Date.now());
  const outfall = change({
    case: 'outfall',
    value: {
      name: a.name ?? '示例排口', riverCode: a.river, divisionCode: a.division, lat, lon, accuracyM: 4,
      type: pb.OutfallType.OTHER, landmark: '示例：桥下左岸',
    },
  });
  const photos = a.photo ? [{ hash: photoHash(readFileSync(a.photo)), kind: pb.PhotoKind.NEAR }] : [];
  const observation = change({
    case: 'observation',
    value: {
      outfallId: outfall.entityId, observedAtMs: now, lat, lon, accuracyM: 4, flowing: true,
      colour: '清', odour: '无', notes: '示例观测', photos,
    },
  });
  const answer = await srv.pushBatch([outfall, observation]);
  let rejected = false;
  answer.results.forEach((r, i) => {
    rejected ||= r.status === pb.ChangeStatus.REJECTED;
    console.log(JSON.stringify({
      entityId: [outfall, observation][i].entityId, status: pb.ChangeStatus[r.status],
      version: String(r.version), reason: r.reason,
    }));
  });
  for (const hash of answer.missingPhotos) console.log(JSON.stringify({ missingPhoto: hash }));
  return rejected ? 1 : 0;
});
