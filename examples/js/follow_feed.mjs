// Follows the change feed with the generated Connect client (SyncService.GetChanges): pages from a
// cursor, then waits on the feed (wait=25 by default) so a change shows within a second of its
// commit, and prints each entry as a line of JSON.
//
//   node follow_feed.mjs --url http://127.0.0.1:8080 --user integrator1 --password ... \
//       [--since 0] [--wait 25] [--once]
//
// Lines: {"cursor": "12", "outfall": id, "version": "2", "code": ..., "reviewState": "APPROVED"},
// {"cursor": ..., "observation": id, "outfallId": ...} or {"cursor": ..., "redirect": from, "to": id}.
// Keep the last cursor to resume. --once stops when the feed has nothing new.
import { args, pb, run, Server } from './outfall_client.mjs';

// One feed entry as the line it prints.
function line(entry) {
  const cursor = String(entry.seq);
  const { case: kind, value } = entry.entry;
  if (kind === 'outfall')
    return { cursor, outfall: value.id, version: String(value.version), code: value.code, reviewState: pb.ReviewState[value.reviewState] };
  if (kind === 'observation') return { cursor, observation: value.id, outfallId: value.outfallId };
  return { cursor, redirect: value.fromId, to: value.toId };
}

run(async () => {
  const a = args(process.argv.slice(2), ['url', 'user', 'password']);
  const srv = new Server(a.url);
  await srv.login(a.user, a.password);
  let since = BigInt(a.since ?? 0);
  const wait = a.once ? 0 : Number(a.wait ?? 25);
  for (;;) {
    const page = await srv.changes(since, 500, wait);
    for (const entry of page.feed) console.log(JSON.stringify(line(entry)));
    since = page.nextCursor;
    if (a.once && page.feed.length === 0) return 0;
  }
});
