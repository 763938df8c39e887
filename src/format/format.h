/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * format: the on-media structures of a daxlease pool, and pure functions
 * over their bytes (checksums, verification, encoding).  Shared by the
 * library, fsck, tools and fuzzers — like xfsprogs' libxfs.  Nothing here
 * does I/O or knows about transactions.
 *
 * Layout of a pool (byte offsets; all metadata in 4 KiB blocks):
 *
 *   0                 primary superblock (block 0)
 *   4 KiB             journal (journal_blocks)
 *   mbitmap_blk       allocation bitmap of the metadata region, 1 bit/block
 *   dbitmap_blk       allocation bitmap of the data region, 1 bit/unit
 *   meta_blk          metadata region: inodes, B+tree nodes (4 KiB blocks)
 *   data_off          data region: data_units units, aligned to the unit
 *   size - 4 KiB      backup superblock (geometry only; written at mkfs/tune)
 *
 * Integers are little-endian (the only byte order this runs on is x86-64;
 * the format records it with DXL_SB_MAGIC so a foreign image is refused).
 */
#ifndef DXL_FORMAT_H
#define DXL_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define DXL_BLOCK_SIZE 4096u
#define DXL_BLOCK_SHIFT 12
#define DXL_CACHELINE 64u

#define DXL_FORMAT_VERSION 1u

/* magics: first 4 bytes of each metadata block kind */
#define DXL_SB_MAGIC 0x4c584144534c4541ull /* "AELSDAXL" */
#define DXL_JHDR_MAGIC 0x4a4c5844u         /* "DXLJ" */
#define DXL_INODE_MAGIC 0x49584c44u        /* "DLXI" */
#define DXL_NODE_MAGIC 0x4e584c44u         /* "DLXN" */

/* feature flags: an incompat bit we do not know refuses the open */
#define DXL_FEAT_INCOMPAT_REFLINK 0x1ull
/* the journal's second header slot may hold the last transaction: a
 * library that reads slot 0 only would miss it after a crash */
#define DXL_FEAT_INCOMPAT_JSLOTS 0x2ull
/* FIFOs, devices or sockets may be in the pool: a library that knows
 * regular files, directories and symlinks only would call them damage */
#define DXL_FEAT_INCOMPAT_SPECIAL 0x4ull
#define DXL_FEAT_INCOMPAT_KNOWN                                                     \
	(DXL_FEAT_INCOMPAT_REFLINK | DXL_FEAT_INCOMPAT_JSLOTS | DXL_FEAT_INCOMPAT_SPECIAL)

/* superblock flags */
#define DXL_SBF_UNBREAKABLE 0x1u /* refusing leases allowed */

/* ------------------------------------------------------------ superblock */

/*
 * The first DXL_SB_CRC_LEN bytes are checksummed.  Geometry fields never
 * change after mkfs; the backup copy holds the same geometry.  Counters and
 * roots (marked "live") change in transactions and are only in the primary;
 * fsck rebuilds them when it has to fall back to the backup.
 */
struct dxl_sb {
	uint64_t magic;
	uint32_t version;
	uint32_t crc;              /* crc32c of the first DXL_SB_CRC_LEN bytes, crc = 0 */
	uint64_t feat_compat;
	uint64_t feat_incompat;
	uint64_t feat_ro_compat;
	uint8_t uuid[16];
	uint64_t pool_size;        /* bytes covered by this layout */
	uint32_t block_size;       /* DXL_BLOCK_SIZE */
	uint32_t unit_shift;       /* log2 of the allocation unit */
	uint64_t journal_blk;      /* first journal block */
	uint64_t journal_blocks;
	uint64_t mbitmap_blk;
	uint64_t mbitmap_blocks;
	uint64_t dbitmap_blk;
	uint64_t dbitmap_blocks;
	uint64_t meta_blk;         /* first block of the metadata region */
	uint64_t meta_blocks;
	uint64_t data_off;         /* byte offset of unit 0, unit-aligned */
	uint64_t data_units;
	uint64_t root_ino;         /* fixed at mkfs: first metadata block */
	uint64_t refc_blk;         /* block holding the refcount tree root, fixed */
	int64_t mkfs_time_ns;
	uint32_t lease_break_ms;   /* tunable */
	uint32_t flags;            /* DXL_SBF_*, tunable */
	/* live fields (primary only) */
	uint64_t free_units;
	uint64_t free_meta;
	uint64_t inodes;           /* inodes in use */
	uint64_t orphan_head;      /* ino of first orphan (nlink 0, blocks not yet freed), 0 = none */
	uint64_t next_gen;         /* generation for the next inode */
	uint64_t pad[36];          /* zero; room for later fields */
};
#define DXL_SB_CRC_LEN 512u
_Static_assert(sizeof(struct dxl_sb) == DXL_SB_CRC_LEN, "superblock must be exactly its checksummed size");

void dxl_sb_set_crc(struct dxl_sb *sb);
/* 0, or a negative errno with dxl_err() message describing what is wrong.
 * dev_size: size of the backing store (the pool must fit). */
int dxl_sb_verify(const struct dxl_sb *sb, uint64_t dev_size);
/* Compute a layout for mkfs. */
struct dxl_geom_req {
	uint64_t size, unit, journal_size, meta_size;
};
int dxl_sb_layout(struct dxl_sb *sb, const struct dxl_geom_req *req);

/* ------------------------------------------------------------ journal */

/*
 * The journal: a header block followed by a circular log of records.
 * Each record is {off, len} followed by len bytes (padded to 8): "these
 * bytes go at this pool offset".  The header block has two header slots,
 * one cache line each; transaction seq s is described by slot s % 2 (its
 * records at log_off), and is committed when that header, with a matching
 * checksum over the records, is durable.  Records hold final bytes, so
 * replay is idempotent and the journal is never cleared.
 *
 * Why two: on a backend where durability costs a system call (msync of a
 * pool file on a disk), the in-place apply of a transaction is made
 * durable by the *next* commit's flush rather than by one of its own, so
 * a transaction costs one flush, not two.  Until then the previous
 * transaction must stay replayable: the next one's records go after it in
 * the log, and its header into the other slot.  Recovery replays the
 * newest slot whose records are intact, preceded by the other slot if
 * that holds the transaction just before it and the newest says it may be
 * pending (journal/recover.c).  A pool
 * written before the slots has slot 0 only, which reads the same.
 */
struct dxl_jhdr {
	uint32_t magic;
	uint32_t crc;              /* crc32c of the header (crc = 0) */
	uint64_t seq;
	uint64_t nrecs;
	uint64_t bytes;            /* bytes of records, at log_off in the log */
	uint32_t rec_crc;          /* crc32c of those bytes */
	uint32_t log_off;          /* where they start, from the block after the header
	                            * block; bit 31: DXL_JHDR_PREV_PENDING */
	uint8_t uuid[16];          /* pool uuid: a stale journal from an older mkfs never replays */
};
#define DXL_JSLOTS 2u
/* the transaction before this one may not be durable in place yet: replay
 * it first (cleared once the pool is synced, so that a pool closed
 * cleanly replays only its last transaction, as before the slots) */
#define DXL_JHDR_PREV_PENDING 0x80000000u
#define DXL_JHDR_OFF_MASK 0x7fffffffu
/* slot k of the header block */
#define DXL_JSLOT_OFF(k) ((uint64_t)(k) * DXL_CACHELINE)
struct dxl_jrec {
	uint64_t off;
	uint32_t len;
	uint32_t kind;             /* DXL_JREC_BYTES (0) or DXL_JREC_FREE_UNITS */
};
#define DXL_JREC_ALIGN 8u
/* len bytes follow: they go at pool offset off */
#define DXL_JREC_BYTES 0u
/* nothing follows: clear bits [off, off + len) of the data-unit bitmap.
 * Freeing a large extent logs 16 bytes, where the bitmap's changed lines
 * would be one per 512 units.  Applied after the byte records before it
 * (a transaction's intents come last), and idempotent like them. */
#define DXL_JREC_FREE_UNITS 1u
/* the log bytes a record takes */
static inline uint64_t dxl_jrec_size(const struct dxl_jrec *r)
{
	return sizeof(*r) + (r->kind == DXL_JREC_BYTES ? ((r->len + DXL_JREC_ALIGN - 1) & ~(uint64_t)(DXL_JREC_ALIGN - 1)) : 0);
}

/* ------------------------------------------------------------ B+tree nodes */

/*
 * A node occupies either a whole metadata block or the tail of an inode
 * block (the tree root lives in the inode, as ext4 and XFS keep theirs), so
 * nodes are addressed as (block, offset, capacity).
 *
 * Leaf (level 0): slots {key, off, len} sorted by key, growing up from the
 * header; values packed from the end of the node downwards.
 * Internal (level > 0): entries {key, child}; child i holds keys >= key[i]
 * and < key[i+1]; key[0] is a lower bound of the subtree.
 * Keys are unique u64 in every tree.
 */
struct dxl_node_hdr {
	uint32_t magic;            /* DXL_NODE_MAGIC */
	uint32_t crc;              /* crc32c over the node's used bytes, crc = 0 */
	uint16_t level;
	uint16_t nrecs;
	uint16_t cap;              /* node capacity in bytes, header included */
	uint16_t heap;             /* leaf: offset of the lowest value byte */
	uint64_t owner;            /* ino, or 0 for the refcount tree */
};
struct dxl_leaf_slot {
	uint64_t key;
	uint16_t off;              /* from node start */
	uint16_t len;
	uint32_t pad;
};
struct dxl_int_ent {
	uint64_t key;
	uint64_t child;            /* block number */
};
#define DXL_NODE_MAX_LEVEL 16
#define DXL_NODE_MAX_VAL 512u

void dxl_node_init(void *node, uint16_t cap, uint16_t level, uint64_t owner);
void dxl_node_set_crc(void *node);
/* Structural check (bounds, order, offsets) — cheap; crc checked if check_crc. */
int dxl_node_verify(const void *node, uint32_t cap, int check_crc);

/* ------------------------------------------------------------ inodes */

/*
 * One inode per metadata block; ino is that block's number.  The first
 * DXL_INODE_HDR bytes are the inode proper; the rest of the block is the
 * root node of the inode's tree: the extent map of a regular file, the
 * entries of a directory, the target of a symlink (raw bytes, no node).
 */
#define DXL_INODE_HDR 256u
#define DXL_INODE_ROOT_CAP (DXL_BLOCK_SIZE - DXL_INODE_HDR)

struct dxl_inode {
	uint32_t magic;            /* DXL_INODE_MAGIC */
	uint32_t crc;              /* crc32c of the DXL_INODE_HDR bytes, crc = 0 */
	uint64_t ino;              /* self */
	uint64_t gen;
	uint32_t mode;
	uint32_t nlink;
	uint32_t uid, gid;
	uint64_t size;
	uint64_t nunits;           /* units mapped by the extent map */
	int64_t atime_ns, mtime_ns, ctime_ns, btime_ns;
	uint64_t parent;           /* directories: parent ino (root: itself) */
	uint64_t nentries;         /* directories: entries */
	uint64_t orphan_next;      /* next ino on the orphan list, 0 = end */
	uint32_t flags;            /* DXL_INODE_F_* */
	uint32_t pad0;
	uint64_t rdev;             /* character and block devices: the device number */
	uint64_t pad[13];
};
_Static_assert(sizeof(struct dxl_inode) <= DXL_INODE_HDR, "inode header too large");
#define DXL_INODE_F_ORPHAN 0x1u

/* The file types a pool holds: regular files, directories, symlinks,
 * and the special files that have no contents here (FIFOs, character and
 * block devices, sockets: the kernel gives them their behaviour). */
int dxl_fmt_mode_ok(uint32_t mode);
int dxl_fmt_mode_special(uint32_t mode);
/* A directory entry's DT_* type for an inode of this mode, and whether a
 * stored type is one of them. */
uint32_t dxl_fmt_dt_of(uint32_t mode);
int dxl_fmt_dt_ok(uint32_t type);

void dxl_inode_set_crc(struct dxl_inode *ino);
int dxl_inode_verify(const struct dxl_inode *ino, uint64_t ino_nr, int check_crc);

/* ------------------------------------------------------------ tree records */

/* File extent map: key = file offset in units. */
struct dxl_extent {
	uint64_t phys;             /* first unit in the data region */
	uint32_t len;              /* units */
	uint32_t flags;            /* DXL_EXT_* */
};
#define DXL_EXT_SHARED 0x1u        /* may be shared: consult the refcount tree before writing */

/* Refcount tree: key = first unit; only shared ranges (count >= 2) appear. */
struct dxl_refc {
	uint64_t len;              /* units */
	uint64_t count;
};

/* Directory: key = (hash(name) & ~0xff) | k; k picks among colliding names. */
struct dxl_dirent_rec {
	uint64_t ino;
	uint8_t type;              /* DT_* */
	uint8_t name_len;
	char name[];               /* not NUL-terminated */
};
#define DXL_NAME_MAX 255u
#define DXL_DIR_HASH_MASK (~0xffull)
uint64_t dxl_name_hash(const char *name, size_t len);

/* ------------------------------------------------------------ record codecs */

/*
 * One codec per kind of tree record (directory entry, extent, refcount).
 * The library (src/fs) and fsck both encode and decode every record
 * through these, so the two cannot disagree about what a damaged record
 * is.  A decoder checks everything the record's own bytes, its key and the
 * pool's geometry can tell, and nothing more: rules over several records
 * (extents and refcount records do not overlap, a directory's names are
 * unique and stored under their hash) are the caller's.
 *
 * Decoders are strict: a value is exactly as long as its kind says, so
 * trailing bytes are damage.  They read val only after checking vlen, so
 * vlen may be the stored length even when the caller's buffer held fewer
 * bytes.  They return 0, or -EUCLEAN with *err (when err is not NULL)
 * saying which rule failed and why, in words; they never print and never
 * set dxl_err().  The type of an entry and the flags of an extent are
 * checked last: when they are the fault, every other field is decoded, so
 * fsck can mend them in place.
 */
enum dxl_rec_fault {
	DXL_REC_OK = 0,
	DXL_REC_SIZE,              /* value too short, too long, or trailing bytes */
	DXL_REC_NAME,              /* entry: name of length 0, with '/' or NUL, "." or ".." */
	DXL_REC_INO,               /* entry: inode 0 */
	DXL_REC_LEN,               /* extent, refcount: length 0 */
	DXL_REC_RANGE,             /* units past the data region; extent: past the largest file unit */
	DXL_REC_COUNT,             /* refcount: count below 2 */
	DXL_REC_TYPE,              /* entry: unknown type (checked last) */
	DXL_REC_FLAGS,             /* extent: unknown flags (checked last) */
};
struct dxl_rec_err {
	enum dxl_rec_fault fault;
	const char *why;           /* a phrase, e.g. "has bytes after its name" */
};

/* Directory entry: the value is the 10 bytes of dxl_dirent_rec's header
 * followed by exactly name_len name bytes. */
#define DXL_DIRENT_HDR offsetof(struct dxl_dirent_rec, name)
#define DXL_DIRENT_MAX (DXL_DIRENT_HDR + DXL_NAME_MAX)
struct dxl_dent {
	uint64_t ino;
	uint32_t type;             /* DT_REG, DT_DIR or DT_LNK */
	uint32_t name_len;
	const char *name;          /* not NUL-terminated: into the decoded value */
};
/* 1 if name is a valid entry name: 1 to DXL_NAME_MAX bytes, no '/' or
 * NUL, not "." or "..". */
int dxl_dirent_name_ok(const char *name, size_t len);
/* buf holds DXL_DIRENT_MAX bytes; returns the value's length. */
uint32_t dxl_dirent_encode(void *buf, const struct dxl_dent *d);
int dxl_dirent_decode(const void *val, size_t vlen, struct dxl_dent *d,
		      struct dxl_rec_err *err);

/* Extent at file unit key: the value is struct dxl_extent, 16 bytes. */
#define DXL_EXTENT_VLEN ((uint32_t)sizeof(struct dxl_extent))
#define DXL_EXT_KNOWN DXL_EXT_SHARED
uint32_t dxl_extent_encode(void *buf, const struct dxl_extent *e);
/* sb gives the geometry: data_units, and unit_shift for the largest file
 * unit (file byte offsets fit in 64 bits). */
int dxl_extent_decode(const struct dxl_sb *sb, uint64_t key, const void *val, size_t vlen,
		      struct dxl_extent *e, struct dxl_rec_err *err);

/* Refcount record at data unit key: the value is struct dxl_refc, 16 bytes. */
#define DXL_REFC_VLEN ((uint32_t)sizeof(struct dxl_refc))
uint32_t dxl_refc_encode(void *buf, const struct dxl_refc *r);
int dxl_refc_decode(const struct dxl_sb *sb, uint64_t key, const void *val, size_t vlen,
		    struct dxl_refc *r, struct dxl_rec_err *err);

/* Set the checksums of a metadata block from its kind (region and magic):
 * the transaction layer calls this on every block it commits. */
void dxl_fmt_finalize(const struct dxl_sb *sb, uint64_t blk, void *block);

/* ------------------------------------------------------------ sanity limits */
#define DXL_PATH_MAX 4096u
/* The longest path the library walks (a bound on a malformed call's work,
 * not a limit of the tree: paths deeper than PATH_MAX are fine) */
#define DXL_PATH_WALK_MAX (1u << 20)
#define DXL_SYMLINK_MAX (DXL_INODE_ROOT_CAP)
#define DXL_SYMLOOP_MAX 40

#endif
