// Where the phone is: navigator.geolocation's fixes with their accuracy, the best one kept, and
// whether it is good enough (better than the set accuracy). A position placed by hand when the
// fix is poor is recorded as such (positionByHand), never passed off as a fix.

export const DEFAULT_GOOD_M = 15;

export class Locator {
  // onChange(locator) after every fix or error.
  constructor(onChange, goodM = DEFAULT_GOOD_M) {
    this.onChange = onChange;
    this.goodM = goodM;
    this.best = null;   // {lat, lon, accuracyM, atMs}
    this.error = null;  // 'denied' | 'unavailable' | 'timeout' | 'unsupported'
    this.watch = null;
  }

  start() {
    if (!('geolocation' in navigator)) {
      this.error = 'unsupported';
      this.onChange(this);
      return;
    }
    this.watch = navigator.geolocation.watchPosition((p) => {
      const fix = { lat: p.coords.latitude, lon: p.coords.longitude, accuracyM: Math.round(p.coords.accuracy * 10) / 10, atMs: Date.now() };
      // A fresher fix replaces an older one unless it is much worse; a better one always does.
      if (!this.best || fix.accuracyM <= this.best.accuracyM || Date.now() - this.best.atMs > 60000) this.best = fix;
      this.error = null;
      this.onChange(this);
    }, (e) => {
      this.error = e.code === 1 ? 'denied' : e.code === 3 ? 'timeout' : 'unavailable';
      this.onChange(this);
    }, { enableHighAccuracy: true, maximumAge: 5000, timeout: 30000 });
  }

  stop() {
    if (this.watch !== null) navigator.geolocation.clearWatch(this.watch);
    this.watch = null;
  }

  good() {
    return !!this.best && this.best.accuracyM <= this.goodM;
  }
}

// The distance in metres between two WGS-84 points (haversine).
export function distanceM(lat1, lon1, lat2, lon2) {
  const r = 6371008.8;
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * r * Math.asin(Math.min(1, Math.sqrt(a)));
}

// Known outfalls of river within radius metres of (lat, lon), nearest first: [{outfall, d}].
export function nearby(outfalls, river, lat, lon, radius) {
  const out = [];
  for (const o of outfalls) {
    if (o.riverCode !== river || o.lat === undefined || o.lon === undefined || o.mergedInto) continue;
    const d = distanceM(lat, lon, Number(o.lat), Number(o.lon));
    if (d <= radius) out.push({ outfall: o, d });
  }
  return out.sort((a, b) => a.d - b.d);
}
