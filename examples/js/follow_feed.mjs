// Follows the change feed with the generated Connect client (SyncService.GetChanges): pages from a
// cursor, then waits on the feed (wait=25 by default) so a change shows within a second of its
// commit, and prints each entry as a line of JSON.
//
//   node follow_feed.mjs --url http://127.0.0.1:8080 --user integrator1 --password ... \
//       [--since 0 --epoch E] [--wait 25] [--once]
//
// Lines: {"cursor": "12", "epoch": E, "outfall": id, "version": "2", "code": ..., "reviewState": "APPROVED"},
// {"cursor": ..., "epoch": E, "observation": id, "outfallId": ...} or {"cursor": ..., "epoch": E, "redirect": from,
// "to": id}. Keep the last cursor with its epoch (the store's) to resume (--since, --epoch). When the
// feed names another epoch the server was restored from a backup: it prints {"restart": true, "epoch":
// new} and starts again from cursor 0 (what follows replaces what was read before).
// --once stops when the feed has nothing new.
import { args, pb, run, Server } from './outfall_client.mjs';

// One feed entry as the line it prints.
function line(entry, epoch) {
  const cursor = String(entry.seq);
  const { case: kind, value } = entry.entry;
  if (kind === 'outfall')
    return { cursor, epoch, outfall: value.id, version: String(value.version), code: value.code, reviewState: pb.ReviewState[value.reviewState] };
  if (kind === 'observation') return { cursor, epoch, observation: value.id, outfallId: value.outfallId };
  return { cursor, epoch, redirect: value.fromId, to: value.toId };
}

run(async () => {
  const a = args(process.argv.slice(2), ['url', 'user', 'password']);
  const srv = new Server(a.url);
  await srv.login(a.user, a.password);
  let since = BigInt(a.since ?? 0);
  let epoch = a.epoch ?? '';
  const wait = a.once ? 0 : Number(a.wait ?? 25);
  for (;;) {
    const page = await srv.changes(since, 500, wait);
    if (epoch && page.storeEpoch !== epoch && since !== 0n) {
      console.log(JSON.stringify({ restart: true, epoch: page.storeEpoch })); // restored: from 0
      epoch = page.storeEpoch;
      since = 0n;
      continue;
    }
    epoch = page.storeEpoch;
    for (const entry of page.feed) console.log(JSON.stringify(line(entry, epoch)));
    since = page.nextCursor;
    if (a.once && page.feed.length === 0) return 0;
  }
});
