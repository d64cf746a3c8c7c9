#!/usr/bin/python3
"""Keeps a GeoPackage up to date from the change feed: one point per outfall the account may
read, at its latest version, for GDAL and QGIS to open.

    python3 follow_geopackage.py --url http://127.0.0.1:8080 --user integrator1 --password ... \\
        --out outfalls.gpkg

Pages through GET /v1/changes from the cursor kept in the GeoPackage (table feed_state), then
waits on the feed (wait=25) for what comes next, so a change shows within a second. Each outfall
is written in one transaction with the cursor that covers it: stopped at any moment, it resumes
where it was and writes nothing twice. The cursor is kept with the store epoch it belongs to
(feed_state.epoch): when the feed names another epoch, the server's database was restored from a
backup and its cursors were numbered anew, so the layer is rebuilt from cursor 0 (emptied, then
filled again from the feed; upserting by id would keep points the restored server no longer
has). --once stops when the feed has nothing new (for scripts); SIGTERM (a service manager's
stop) ends it with status 0, whatever it had committed kept.
Needs GDAL's Python bindings (Debian: python3-gdal).
"""
import argparse
import os
import signal
import sys

from osgeo import ogr, osr

from outfall_client import Server, ServerError, pb

# Named by the contract's field paths, as the server's CSV and GeoJSON exports name their columns
# (docs/api.md, Field names): a nested field flattened with dots.
FIELDS = [("id", ogr.OFTString), ("code", ogr.OFTString), ("name", ogr.OFTString),
          ("type", ogr.OFTString), ("river_code", ogr.OFTString),
          ("division_code", ogr.OFTString), ("review_state", ogr.OFTString),
          ("version", ogr.OFTInteger64), ("merged_into", ogr.OFTString),
          ("responsible_party.name", ogr.OFTString)]


def open_package(path):
    """The GeoPackage at path with its layers made if new: outfalls (points, WGS 84) and
    feed_state (the cursor)."""
    ogr.UseExceptions()
    ds = ogr.Open(path, update=1) if os.path.exists(path) else None
    if ds is None:
        ds = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    if ds.GetLayerByName("outfalls") is None:
        wgs84 = osr.SpatialReference()
        wgs84.ImportFromEPSG(4326)
        layer = ds.CreateLayer("outfalls", wgs84, ogr.wkbPoint)
        for name, kind in FIELDS:
            layer.CreateField(ogr.FieldDefn(name, kind))
    if ds.GetLayerByName("feed_state") is None:
        state = ds.CreateLayer("feed_state", geom_type=ogr.wkbNone)
        state.CreateField(ogr.FieldDefn("cursor", ogr.OFTInteger64))
        state.CreateField(ogr.FieldDefn("epoch", ogr.OFTString))
        f = ogr.Feature(state.GetLayerDefn())
        f.SetField("cursor", 0)
        state.CreateFeature(f)
    state = ds.GetLayerByName("feed_state")
    if state.GetLayerDefn().GetFieldIndex("epoch") < 0:  # a package kept before the epoch
        state.CreateField(ogr.FieldDefn("epoch", ogr.OFTString))
    return ds


def state_of(ds):
    """The kept (cursor, store epoch); the epoch is "" before the first page."""
    state = ds.GetLayerByName("feed_state")
    state.ResetReading()
    f = state.GetNextFeature()
    return f.GetField("cursor"), f.GetField("epoch") or ""


def restart(ds, epoch):
    """The server was restored (a new store epoch): empties the layer and keeps cursor 0 under
    the new epoch, in one transaction."""
    layer, state = ds.GetLayerByName("outfalls"), ds.GetLayerByName("feed_state")
    ds.StartTransaction()
    layer.ResetReading()
    for f in list(layer):
        layer.DeleteFeature(f.GetFID())
    state.ResetReading()
    s = state.GetNextFeature()
    s.SetField("cursor", 0)
    s.SetField("epoch", epoch)
    state.SetFeature(s)
    ds.CommitTransaction()


def apply_page(ds, page):
    """Writes the page's outfalls and its cursor in one transaction."""
    layer, state = ds.GetLayerByName("outfalls"), ds.GetLayerByName("feed_state")
    ds.StartTransaction()
    for entry in page.feed:
        if entry.WhichOneof("entry") == "redirect":  # merged: the old point goes
            _delete(layer, entry.redirect.from_id)
        if entry.WhichOneof("entry") != "outfall":
            continue
        o = entry.outfall
        _delete(layer, o.id)
        f = ogr.Feature(layer.GetLayerDefn())
        f.SetField("id", o.id)
        f.SetField("code", o.code)
        f.SetField("name", o.name)
        f.SetField("type", pb.OutfallType.Name(o.type))
        f.SetField("river_code", o.river_code)
        f.SetField("division_code", o.division_code)
        f.SetField("review_state", pb.ReviewState.Name(o.review_state))
        f.SetField("version", o.version)
        f.SetField("merged_into", o.merged_into)
        f.SetField("responsible_party.name", o.responsible_party.name)
        point = ogr.Geometry(ogr.wkbPoint)
        point.AddPoint_2D(o.lon, o.lat)
        f.SetGeometry(point)
        layer.CreateFeature(f)
    state.ResetReading()
    s = state.GetNextFeature()
    s.SetField("cursor", page.next_cursor)
    s.SetField("epoch", page.store_epoch)
    state.SetFeature(s)
    ds.CommitTransaction()


def _delete(layer, outfall_id):
    layer.SetAttributeFilter("id = '%s'" % outfall_id.replace("'", "''"))
    for f in list(layer):
        layer.DeleteFeature(f.GetFID())
    layer.SetAttributeFilter(None)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--out", required=True, help="the GeoPackage to keep (made if absent)")
    ap.add_argument("--once", action="store_true", help="stop when nothing new comes in --wait")
    ap.add_argument("--wait", type=int, default=25, help="seconds the server holds an empty page")
    a = ap.parse_args()
    # Stopped as by sys.exit: an outfall's transaction not committed is rolled back, and
    # outfall_client's compiled contract is removed at exit.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))

    srv = Server(a.url)
    srv.login(a.user, a.password)
    ds = open_package(a.out)
    while True:
        cursor, epoch = state_of(ds)
        page = srv.changes(since=cursor, limit=500, wait=0 if a.once else a.wait)
        if epoch and page.store_epoch != epoch:  # restored from a backup: start again from 0
            restart(ds, page.store_epoch)
            print("store epoch %s: the server was restored, rebuilding from cursor 0"
                  % page.store_epoch, flush=True)
            continue
        apply_page(ds, page)
        print("cursor %d, %d entries" % (page.next_cursor, len(page.feed)), flush=True)
        if a.once and not page.feed:
            break
    ds = None  # closes the file
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ServerError as e:  # the server's status, stable code and message
        sys.exit("error: %s" % e)
