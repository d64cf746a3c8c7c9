#include "sync/walvfs.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* A file of this VFS: the default VFS's file lives right after it (szOsFile covers both). */
typedef struct gather_file {
    sqlite3_file base;
    sqlite3_file *real;
    int gather;         /* a WAL: writes are gathered */
    unsigned char *buf; /* the gathered bytes, for the file from offset at */
    size_t len, cap;
    sqlite3_int64 at;
} gather_file;

/* sizeof(gather_file) rounded up so that the real file after it is aligned like any malloc. */
#define GATHER_FILE_SIZE ((sizeof(gather_file) + 15) & ~(size_t)15)

static sqlite3_vfs gather_vfs;

static sqlite3_vfs *real_vfs(void) {
    return gather_vfs.pAppData;
}

static const sqlite3_io_methods *real_io(gather_file *f) {
    return f->real->pMethods;
}

/* The most bytes handed to the default VFS's xWrite at once: it masks each write's size to its
 * low 17 bits (SQLite itself never writes more than a frame), so a write of 128 KiB or more would
 * come back short and be taken for a full disk. 31 pages. */
#define REAL_WRITE_MAX 0x1f000

/* Writes the gathered bytes out. On failure they are dropped and the call that flushed (a sync,
 * read or write of the WAL) reports the error: the commit they belong to fails, and SQLite never
 * publishes the frames of a failed commit. */
static int flush(gather_file *f) {
    int rc = SQLITE_OK;
    for (size_t done = 0; done < f->len && rc == SQLITE_OK; done += REAL_WRITE_MAX) {
        size_t n = f->len - done < REAL_WRITE_MAX ? f->len - done : REAL_WRITE_MAX;
        rc = real_io(f)->xWrite(f->real, f->buf + done, (int)n, f->at + (sqlite3_int64)done);
    }
    f->len = 0;
    return rc;
}

/* Room for n bytes in the buffer; 0 when it cannot be had. */
static int reserve(gather_file *f, size_t n) {
    if (n <= f->cap) return 1;
    size_t cap = f->cap ? f->cap : 64 << 10;
    while (cap < n)
        cap *= 2;
    if (cap > WALVFS_MAX_BUFFER) cap = WALVFS_MAX_BUFFER;
    unsigned char *grown = realloc(f->buf, cap);
    if (!grown) return 0;
    f->buf = grown;
    f->cap = cap;
    return 1;
}

static int gather_write(sqlite3_file *file, const void *data, int amt, sqlite3_int64 off) {
    gather_file *f = (gather_file *)file;
    if (!f->gather) return real_io(f)->xWrite(f->real, data, amt, off);
    size_t n = (size_t)amt;
    if (f->len && (off != f->at + (sqlite3_int64)f->len || f->len + n > WALVFS_MAX_BUFFER)) {
        int rc = flush(f);
        if (rc != SQLITE_OK) return rc;
    }
    if (n > REAL_WRITE_MAX || !reserve(f, f->len + n)) {
        int rc = flush(f);
        return rc != SQLITE_OK ? rc : real_io(f)->xWrite(f->real, data, amt, off);
    }
    if (!f->len) f->at = off;
    memcpy(f->buf + f->len, data, n);
    f->len += n;
    return SQLITE_OK;
}

static int gather_read(sqlite3_file *file, void *data, int amt, sqlite3_int64 off) {
    gather_file *f = (gather_file *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : real_io(f)->xRead(f->real, data, amt, off);
}

static int gather_truncate(sqlite3_file *file, sqlite3_int64 size) {
    gather_file *f = (gather_file *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : real_io(f)->xTruncate(f->real, size);
}

static int gather_sync(sqlite3_file *file, int flags) {
    gather_file *f = (gather_file *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : real_io(f)->xSync(f->real, flags);
}

static int gather_file_size(sqlite3_file *file, sqlite3_int64 *size) {
    gather_file *f = (gather_file *)file;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : real_io(f)->xFileSize(f->real, size);
}

static int gather_close(sqlite3_file *file) {
    gather_file *f = (gather_file *)file;
    int rc = flush(f);
    free(f->buf);
    f->buf = NULL;
    f->cap = 0;
    int closed = real_io(f)->xClose(f->real);
    return rc != SQLITE_OK ? rc : closed;
}

/* The rest go straight to the real file. */
static int gather_lock(sqlite3_file *file, int level) {
    gather_file *f = (gather_file *)file;
    return real_io(f)->xLock(f->real, level);
}

static int gather_unlock(sqlite3_file *file, int level) {
    gather_file *f = (gather_file *)file;
    return real_io(f)->xUnlock(f->real, level);
}

static int gather_check_reserved(sqlite3_file *file, int *out) {
    gather_file *f = (gather_file *)file;
    return real_io(f)->xCheckReservedLock(f->real, out);
}

static int gather_file_control(sqlite3_file *file, int op, void *arg) {
    gather_file *f = (gather_file *)file;
    return real_io(f)->xFileControl(f->real, op, arg);
}

static int gather_sector_size(sqlite3_file *file) {
    gather_file *f = (gather_file *)file;
    return real_io(f)->xSectorSize(f->real);
}

static int gather_device_characteristics(sqlite3_file *file) {
    gather_file *f = (gather_file *)file;
    return real_io(f)->xDeviceCharacteristics(f->real);
}

static int gather_shm_map(sqlite3_file *file, int page, int size, int extend, void volatile **out) {
    gather_file *f = (gather_file *)file;
    return real_io(f)->xShmMap(f->real, page, size, extend, out);
}

static int gather_shm_lock(sqlite3_file *file, int offset, int n, int flags) {
    gather_file *f = (gather_file *)file;
    return real_io(f)->xShmLock(f->real, offset, n, flags);
}

static void gather_shm_barrier(sqlite3_file *file) {
    gather_file *f = (gather_file *)file;
    real_io(f)->xShmBarrier(f->real);
}

static int gather_shm_unmap(sqlite3_file *file, int delete_flag) {
    gather_file *f = (gather_file *)file;
    return real_io(f)->xShmUnmap(f->real, delete_flag);
}

static int gather_fetch(sqlite3_file *file, sqlite3_int64 off, int amt, void **out) {
    gather_file *f = (gather_file *)file;
    return real_io(f)->xFetch(f->real, off, amt, out);
}

static int gather_unfetch(sqlite3_file *file, sqlite3_int64 off, void *page) {
    gather_file *f = (gather_file *)file;
    return real_io(f)->xUnfetch(f->real, off, page);
}

static const sqlite3_io_methods gather_io = {
    3,
    gather_close,
    gather_read,
    gather_write,
    gather_truncate,
    gather_sync,
    gather_file_size,
    gather_lock,
    gather_unlock,
    gather_check_reserved,
    gather_file_control,
    gather_sector_size,
    gather_device_characteristics,
    gather_shm_map,
    gather_shm_lock,
    gather_shm_barrier,
    gather_shm_unmap,
    gather_fetch,
    gather_unfetch,
};

static int gather_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
                       int *out_flags) {
    (void)vfs;
    gather_file *f = (gather_file *)file;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)((char *)file + GATHER_FILE_SIZE);
    int rc = real_vfs()->xOpen(real_vfs(), name, f->real, flags, out_flags);
    /* SQLite calls xClose only on files whose pMethods is set, here left NULL on a failure. The
     * methods here forward version-3 calls (shared memory, mmap) without checking. */
    if (rc != SQLITE_OK || !f->real->pMethods || f->real->pMethods->iVersion < 3) {
        if (f->real->pMethods) f->real->pMethods->xClose(f->real);
        return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
    }
    f->gather = (flags & SQLITE_OPEN_WAL) != 0;
    f->base.pMethods = &gather_io;
    return rc;
}

/* The VFS's own calls go to the default VFS, with it as their VFS. */
static int gather_delete(sqlite3_vfs *vfs, const char *name, int sync_dir) {
    (void)vfs;
    return real_vfs()->xDelete(real_vfs(), name, sync_dir);
}

static int gather_access(sqlite3_vfs *vfs, const char *name, int flags, int *out) {
    (void)vfs;
    return real_vfs()->xAccess(real_vfs(), name, flags, out);
}

static int gather_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out) {
    (void)vfs;
    return real_vfs()->xFullPathname(real_vfs(), name, n, out);
}

static void *gather_dl_open(sqlite3_vfs *vfs, const char *name) {
    (void)vfs;
    return real_vfs()->xDlOpen(real_vfs(), name);
}

static void gather_dl_error(sqlite3_vfs *vfs, int n, char *out) {
    (void)vfs;
    real_vfs()->xDlError(real_vfs(), n, out);
}

static void (*gather_dl_sym(sqlite3_vfs *vfs, void *lib, const char *sym))(void) {
    (void)vfs;
    return real_vfs()->xDlSym(real_vfs(), lib, sym);
}

static void gather_dl_close(sqlite3_vfs *vfs, void *lib) {
    (void)vfs;
    real_vfs()->xDlClose(real_vfs(), lib);
}

static int gather_randomness(sqlite3_vfs *vfs, int n, char *out) {
    (void)vfs;
    return real_vfs()->xRandomness(real_vfs(), n, out);
}

static int gather_sleep(sqlite3_vfs *vfs, int us) {
    (void)vfs;
    return real_vfs()->xSleep(real_vfs(), us);
}

static int gather_current_time(sqlite3_vfs *vfs, double *out) {
    (void)vfs;
    return real_vfs()->xCurrentTime(real_vfs(), out);
}

static int gather_last_error(sqlite3_vfs *vfs, int n, char *out) {
    (void)vfs;
    return real_vfs()->xGetLastError(real_vfs(), n, out);
}

static int gather_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out) {
    (void)vfs;
    return real_vfs()->xCurrentTimeInt64(real_vfs(), out);
}

static int registered;

static void register_once(void) {
    sqlite3_vfs *real = sqlite3_vfs_find(NULL);
    if (!real || real->iVersion < 2) {
        registered = SQLITE_ERROR;
        return;
    }
    gather_vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)GATHER_FILE_SIZE + real->szOsFile,
        .mxPathname = real->mxPathname,
        .zName = WALVFS_NAME,
        .pAppData = real,
        .xOpen = gather_open,
        .xDelete = gather_delete,
        .xAccess = gather_access,
        .xFullPathname = gather_full_pathname,
        .xDlOpen = gather_dl_open,
        .xDlError = gather_dl_error,
        .xDlSym = gather_dl_sym,
        .xDlClose = gather_dl_close,
        .xRandomness = gather_randomness,
        .xSleep = gather_sleep,
        .xCurrentTime = gather_current_time,
        .xGetLastError = gather_last_error,
        .xCurrentTimeInt64 = gather_current_time_int64,
    };
    registered = sqlite3_vfs_register(&gather_vfs, 0);
}

int walvfs_register(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_once);
    return registered;
}
