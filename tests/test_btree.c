/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * B+tree and refcount tree against in-memory models, on a real pool:
 * random insert/update/delete/lookup/walk with commits in between, a
 * close/reopen, checksums of every node, destroy giving every block back,
 * a damaged node giving -EUCLEAN, and share counts per unit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "scratch_pool.h"
#include "fs/btree.h"
#include "fs/fs.h"

/* ------------------------------------------------------------ helpers */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	/* xorshift64*: reproducible runs from the printed seed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}
static uint64_t rndn(uint64_t n)
{
	return rnd() % n;
}


static struct dxl_fs fs;
static struct dxl_tx *tx;

static void pool_open(void)
{
	CHECK_OK(dxl_fs_open(&fs, pool_path, 0));
	CHECK_OK(dxl_fs_lock(&fs));
}

static void pool_close(void)
{
	dxl_fs_unlock(&fs);
	dxl_fs_close(&fs);
	memset(&fs, 0, sizeof(fs));
}

static void tx_start(void)
{
	tx = dxl_tx_begin(&fs.j);
	CHECK(tx != NULL);
}

static void tx_done(void)
{
	CHECK_OK(dxl_tx_commit(tx));
	tx = NULL;
}

/* ------------------------------------------------------------ model */

struct mrec {
	uint64_t key;
	uint32_t len;
	uint32_t seed;
};

struct model {
	struct mrec *r;
	size_t n, cap;
};

static void fill_val(uint8_t *buf, uint64_t key, uint32_t seed, uint32_t len)
{
	uint32_t i;
	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(key * 131 + seed * 7 + i * 13);
}

/* index of the first record with key >= key */
static size_t m_pos(const struct model *m, uint64_t key)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (m->r[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int m_has(const struct model *m, uint64_t key)
{
	size_t i = m_pos(m, key);
	return i < m->n && m->r[i].key == key;
}

static void m_insert(struct model *m, uint64_t key, uint32_t len, uint32_t seed)
{
	size_t i = m_pos(m, key);
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 1024;
		m->r = realloc(m->r, m->cap * sizeof(*m->r));
		CHECK(m->r != NULL);
	}
	memmove(&m->r[i + 1], &m->r[i], (m->n - i) * sizeof(*m->r));
	m->r[i] = (struct mrec){ key, len, seed };
	m->n++;
}

static void m_delete(struct model *m, uint64_t key)
{
	size_t i = m_pos(m, key);
	CHECK(i < m->n && m->r[i].key == key);
	memmove(&m->r[i], &m->r[i + 1], (m->n - i - 1) * sizeof(*m->r));
	m->n--;
}

static uint32_t rnd_len(void)
{
	uint64_t c = rndn(100);
	if (c < 60)
		return (uint32_t)rndn(33);      /* extent-sized */
	if (c < 90)
		return (uint32_t)rndn(120);     /* directory-entry-sized */
	return (uint32_t)rndn(DXL_NODE_MAX_VAL + 1);
}

/* ------------------------------------------------------------ checks */

static void check_rec(const struct mrec *r, uint64_t key, const void *val, uint32_t vlen)
{
	uint8_t want[DXL_NODE_MAX_VAL];

	CHECK(key == r->key);
	CHECK(vlen == r->len);
	fill_val(want, r->key, r->seed, r->len);
	CHECK(memcmp(val, want, vlen) == 0);
}

static void check_lookup(const struct dxl_broot *root, const struct model *m, uint64_t key)
{
	uint8_t val[DXL_NODE_MAX_VAL];
	uint32_t vlen;
	uint64_t found;
	size_t i = m_pos(m, key);
	int rc;

	vlen = sizeof(val);
	rc = dxl_bt_lookup(&fs, tx, root, key, DXL_BT_EQ, &found, val, &vlen);
	if (i < m->n && m->r[i].key == key) {
		CHECK_OK(rc);
		check_rec(&m->r[i], found, val, vlen);
	} else {
		CHECK_RC(rc, -ENOENT);
	}

	vlen = sizeof(val);
	rc = dxl_bt_lookup(&fs, tx, root, key, DXL_BT_GE, &found, val, &vlen);
	if (i < m->n) {
		CHECK_OK(rc);
		check_rec(&m->r[i], found, val, vlen);
	} else {
		CHECK_RC(rc, -ENOENT);
	}

	vlen = sizeof(val);
	rc = dxl_bt_lookup(&fs, tx, root, key, DXL_BT_LE, &found, val, &vlen);
	if (i < m->n && m->r[i].key == key) {
		CHECK_OK(rc);
		check_rec(&m->r[i], found, val, vlen);
	} else if (i > 0) {
		CHECK_OK(rc);
		check_rec(&m->r[i - 1], found, val, vlen);
	} else {
		CHECK_RC(rc, -ENOENT);
	}

	/* a short buffer gets a prefix and the full length */
	if (i < m->n && m->r[i].len > 4) {
		uint8_t small[4], want[DXL_NODE_MAX_VAL];
		vlen = sizeof(small);
		CHECK_OK(dxl_bt_lookup(&fs, tx, root, m->r[i].key, DXL_BT_EQ, NULL, small, &vlen));
		CHECK(vlen == m->r[i].len);
		fill_val(want, m->r[i].key, m->r[i].seed, m->r[i].len);
		CHECK(memcmp(small, want, sizeof(small)) == 0);
	}
}

struct walk_ctx {
	const struct model *m;
	size_t i;
	size_t stop_after; /* 0 = never */
};

static int walk_cb(void *arg, uint64_t key, const void *val, uint32_t vlen)
{
	struct walk_ctx *w = arg;

	CHECK(w->i < w->m->n);
	check_rec(&w->m->r[w->i], key, val, vlen);
	w->i++;
	if (w->stop_after && w->i == w->stop_after)
		return 42;
	return 0;
}

static void check_walk(const struct dxl_broot *root, const struct model *m, uint64_t start)
{
	struct walk_ctx w = { m, m_pos(m, start), 0 };

	CHECK_OK(dxl_bt_walk(&fs, tx, root, start, walk_cb, &w));
	CHECK(w.i == m->n);
	if (m->n - m_pos(m, start) > 3) {
		w.i = m_pos(m, start);
		w.stop_after = w.i + 3;
		CHECK_RC(dxl_bt_walk(&fs, tx, root, start, walk_cb, &w), 42);
		CHECK(w.i == w.stop_after);
	}
}

struct nodes_ctx {
	uint64_t n, leaves;
	uint64_t owner;
	int check_crc;
};

static int nodes_cb(void *arg, uint64_t blk, int level)
{
	struct nodes_ctx *c = arg;
	const struct dxl_node_hdr *h = dxl_blk_ptr(&fs, blk);

	CHECK(dxl_is_meta_blk(&fs, blk));
	CHECK(dxl_meta_used(&fs, NULL, blk));
	CHECK(h->level == level);
	CHECK(h->owner == c->owner);
	/* non-root nodes are never left empty */
	CHECK(h->nrecs > 0);
	CHECK_OK(dxl_node_verify(h, DXL_BLOCK_SIZE, c->check_crc));
	c->n++;
	c->leaves += level == 0;
	return 0;
}

/* The separators: child i of an internal node holds keys in [key[i],
 * key[i+1]), and key[0] is a lower bound of its subtree (format.h). */
static void check_order(const uint8_t *node, uint64_t lo, uint64_t hi, int lo_set, int hi_set)
{
	const struct dxl_node_hdr *h = (const void *)node;
	unsigned i;

	if (h->level == 0) {
		const struct dxl_leaf_slot *sl = (const void *)(node + sizeof(*h));
		for (i = 0; i < h->nrecs; i++) {
			CHECK(!lo_set || sl[i].key >= lo);
			CHECK(!hi_set || sl[i].key < hi);
		}
		return;
	}
	const struct dxl_int_ent *e = (const void *)(node + sizeof(*h));
	for (i = 0; i < h->nrecs; i++) {
		CHECK(!lo_set || e[i].key >= lo);
		CHECK(!hi_set || e[i].key < hi);
		check_order(dxl_blk_ptr(&fs, e[i].child), e[i].key,
			    i + 1 < h->nrecs ? e[i + 1].key : hi, 1, i + 1 < h->nrecs || hi_set);
	}
}

static int root_level(const struct dxl_broot *root)
{
	return ((const struct dxl_node_hdr *)((const uint8_t *)dxl_blk_ptr(&fs, root->blk) +
					      root->off))->level;
}

/* Every node, including the root, with checksums (the pool as committed). */
static uint64_t check_nodes(const struct dxl_broot *root, int check_crc)
{
	struct nodes_ctx c = { 0, 0, root->owner, check_crc };

	CHECK_OK(dxl_node_verify((const uint8_t *)dxl_blk_ptr(&fs, root->blk) + root->off, root->cap,
				 check_crc));
	CHECK_OK(dxl_bt_walk_nodes(&fs, root, nodes_cb, &c));
	check_order((const uint8_t *)dxl_blk_ptr(&fs, root->blk) + root->off, 0, 0, 0, 0);
	return c.n;
}

static void check_all(const struct dxl_broot *root, const struct model *m)
{
	size_t i;

	check_walk(root, m, 0);
	for (i = 0; i < m->n; i += 1 + rndn(8))
		check_lookup(root, m, m->r[i].key);
}

/* ------------------------------------------------------------ random ops */

#define KEYSPACE 60000u

static void random_ops(const struct dxl_broot *root, struct model *m, unsigned nops,
		       unsigned target)
{
	uint8_t val[DXL_NODE_MAX_VAL];
	unsigned op, pending = 0, batch = 1;

	tx_start();
	for (op = 0; op < nops; op++) {
		uint64_t c = rndn(100), key;
		uint32_t len, seed = (uint32_t)rnd();

		/* grow towards target records, then hover around it */
		int grow = m->n < target;
		if (rndn(4) == 0) /* runs of ascending keys, as appends make */
			key = m->n ? m->r[m->n - 1].key + 1 + rndn(3) : rndn(KEYSPACE);
		else
			key = rndn(KEYSPACE);
		if (c < (grow ? 55u : 30u)) {
			len = rnd_len();
			fill_val(val, key, seed, len);
			if (m_has(m, key)) {
				CHECK_RC(dxl_bt_insert(&fs, tx, root, key, val, len), -EEXIST);
			} else {
				CHECK_OK(dxl_bt_insert(&fs, tx, root, key, val, len));
				m_insert(m, key, len, seed);
			}
		} else if (c < 70) {
			if (m->n && rndn(4))
				key = m->r[rndn(m->n)].key;
			if (m_has(m, key)) {
				CHECK_OK(dxl_bt_delete(&fs, tx, root, key));
				m_delete(m, key);
			} else {
				CHECK_RC(dxl_bt_delete(&fs, tx, root, key), -ENOENT);
			}
		} else if (c < 85) {
			len = rnd_len();
			if (m->n && rndn(8))
				key = m->r[rndn(m->n)].key;
			fill_val(val, key, seed, len);
			if (m_has(m, key)) {
				size_t i = m_pos(m, key);
				CHECK_OK(dxl_bt_update(&fs, tx, root, key, val, len));
				m->r[i].len = len;
				m->r[i].seed = seed;
			} else {
				CHECK_RC(dxl_bt_update(&fs, tx, root, key, val, len), -ENOENT);
			}
		} else {
			check_lookup(root, m, key);
		}
		if (++pending >= batch || dxl_tx_full(tx)) {
			tx_done();
			/* reads without a transaction see the committed tree */
			if (rndn(16) == 0)
				check_lookup(root, m, rndn(KEYSPACE));
			tx_start();
			pending = 0;
			batch = 1 + (unsigned)rndn(12);
		}
		if (op % 4000 == 3999) {
			check_walk(root, m, rndn(KEYSPACE));
			check_walk(root, m, 0);
		}
	}
	tx_done();
}

static void destroy_tree(const struct dxl_broot *root)
{
	int rc, rounds = 0;

	do {
		tx_start();
		rc = dxl_bt_destroy(&fs, tx, root);
		CHECK(rc == 0 || rc == -EAGAIN);
		tx_done();
		rounds++;
	} while (rc == -EAGAIN);
	CHECK(rounds >= 1);
}

/* ------------------------------------------------------------ tests */

static void test_tree(const struct dxl_broot *root_in, unsigned nops, unsigned target,
		      int min_level, uint64_t free_meta_empty)
{
	struct dxl_broot root = *root_in;
	struct model m = { 0 };
	struct walk_ctx w;
	uint64_t nodes;

	random_ops(&root, &m, nops, target);
	tx = NULL;
	check_all(&root, &m);
	nodes = check_nodes(&root, 1);
	printf("  %zu records in %llu nodes below the root, root level %d\n", m.n,
	       (unsigned long long)nodes, root_level(&root));
	CHECK(root_level(&root) >= min_level); /* the test must have built a real tree */
	CHECK(fs.sb->free_meta == free_meta_empty - nodes);

	/* everything survives a close and reopen */
	pool_close();
	pool_open();
	check_all(&root, &m);
	CHECK(check_nodes(&root, 1) == nodes);

	/* more changes after reopening, then delete everything one by one */
	random_ops(&root, &m, nops / 4, target);
	tx = NULL;
	check_all(&root, &m);
	tx_start();
	while (m.n) {
		size_t i = rndn(m.n);
		CHECK_OK(dxl_bt_delete(&fs, tx, &root, m.r[i].key));
		m_delete(&m, m.r[i].key);
		if (dxl_tx_full(tx) || rndn(64) == 0) {
			tx_done();
			tx_start();
		}
	}
	tx_done();
	tx = NULL;
	/* deletion frees nodes as they empty and pulls the root back down */
	CHECK(check_nodes(&root, 1) == 0);
	CHECK(fs.sb->free_meta == free_meta_empty);
	w = (struct walk_ctx){ &m, 0, 0 };
	CHECK_OK(dxl_bt_walk(&fs, NULL, &root, 0, walk_cb, &w));
	CHECK_RC(dxl_bt_lookup(&fs, NULL, &root, 5, DXL_BT_GE, NULL, NULL, NULL), -ENOENT);

	/* fill again, then destroy in several transactions */
	random_ops(&root, &m, nops / 2, target);
	tx = NULL;
	CHECK(check_nodes(&root, 1) > 2);
	destroy_tree(&root);
	CHECK(check_nodes(&root, 1) == 0);
	CHECK(fs.sb->free_meta == free_meta_empty);
	m.n = 0;
	check_all(&root, &m);
	free(m.r);
}

static int first_leaf_cb(void *arg, uint64_t blk, int level)
{
	if (level != 0)
		return 0;
	*(uint64_t *)arg = blk;
	return 1;
}

static int count_cb(void *arg, uint64_t key, const void *val, uint32_t vlen)
{
	(void)key;
	(void)val;
	(void)vlen;
	++*(uint64_t *)arg;
	return 0;
}

static void expect_damage(const struct dxl_broot *root, const char *what)
{
	uint8_t val[8] = { 0 };
	uint64_t n = 0;
	int rc;

	CHECK_RC(dxl_bt_lookup(&fs, NULL, root, 5, DXL_BT_EQ, NULL, NULL, NULL), -EUCLEAN);
	CHECK(strstr(dxl_errmsg(), what) != NULL);
	CHECK_RC(dxl_bt_walk(&fs, NULL, root, 0, count_cb, &n), -EUCLEAN);
	tx_start();
	CHECK_RC(dxl_bt_insert(&fs, tx, root, 5, val, sizeof(val)), -EUCLEAN);
	CHECK_RC(dxl_bt_delete(&fs, tx, root, 0), -EUCLEAN);
	rc = dxl_bt_destroy(&fs, tx, root);
	CHECK(rc == -EUCLEAN);
	dxl_tx_abort(tx);
	tx = NULL;
}

/* Damage written straight into the pool, as a bad device or a stray store
 * would: every access that meets it must fail cleanly. */
static void test_corruption(const struct dxl_broot *root, uint64_t free_meta_empty)
{
	uint8_t val[64];
	struct dxl_node_hdr *h;
	struct dxl_int_ent *e;
	uint64_t leaf = 0, k, n, saved_child;
	uint16_t saved;
	unsigned i, euclean = 0;
	int rc;

	tx_start();
	for (i = 0; i < 3000; i++) {
		memset(val, (int)i, sizeof(val));
		CHECK_OK(dxl_bt_insert(&fs, tx, root, (uint64_t)i * 10, val, sizeof(val)));
		if (dxl_tx_full(tx)) {
			tx_done();
			tx_start();
		}
	}
	tx_done();
	tx = NULL;
	CHECK_RC(dxl_bt_walk_nodes(&fs, root, first_leaf_cb, &leaf), 1);
	CHECK(leaf != 0);
	h = dxl_blk_ptr(&fs, leaf);
	CHECK(h->level == 0 && h->nrecs > 0);

	/* nrecs running far past the node's end */
	saved = h->nrecs;
	((uint8_t *)&h->nrecs)[1] ^= 0x40;
	for (k = 0; k < 30000; k += 10) {
		rc = dxl_bt_lookup(&fs, NULL, root, k, DXL_BT_EQ, NULL, NULL, NULL);
		CHECK(rc == 0 || rc == -EUCLEAN);
		euclean += rc == -EUCLEAN;
	}
	CHECK(euclean == saved);
	expect_damage(root, "records overflow");
	h->nrecs = saved;

	/* a value's bytes: only the checksum can tell */
	((uint8_t *)h)[DXL_BLOCK_SIZE - 1] ^= 1;
	CHECK_RC(dxl_node_verify(h, DXL_BLOCK_SIZE, 1), -EUCLEAN);
	CHECK_OK(dxl_node_verify(h, DXL_BLOCK_SIZE, 0));
	((uint8_t *)h)[DXL_BLOCK_SIZE - 1] ^= 1;
	CHECK_OK(dxl_node_verify(h, DXL_BLOCK_SIZE, 1));

	/* a node of another tree */
	h->owner ^= 1;
	expect_damage(root, "belongs to owner");
	h->owner ^= 1;

	/* a leaf claiming to be internal (how a cycle would look) */
	h->level = 1;
	expect_damage(root, "level");
	h->level = 0;

	/* bad magic */
	h->magic ^= 0x100;
	expect_damage(root, "magic");
	h->magic ^= 0x100;

	/* a child pointer out of the metadata region */
	e = (struct dxl_int_ent *)((uint8_t *)dxl_blk_ptr(&fs, root->blk) + root->off +
				   sizeof(struct dxl_node_hdr));
	CHECK(((struct dxl_node_hdr *)((uint8_t *)dxl_blk_ptr(&fs, root->blk) + root->off))->level > 0);
	saved_child = e[0].child;
	e[0].child = 1;
	expect_damage(root, "outside the metadata region");
	e[0].child = fs.sb->meta_blk + fs.sb->meta_blocks + 5;
	expect_damage(root, "outside the metadata region");
	e[0].child = saved_child;

	/* repaired: all there, and destroy gives every block back */
	n = 0;
	CHECK_OK(dxl_bt_walk(&fs, NULL, root, 0, count_cb, &n));
	CHECK(n == 3000);
	check_nodes(root, 1);
	destroy_tree(root);
	CHECK(fs.sb->free_meta == free_meta_empty);
}

/* Every insert a new smallest key: the lower bounds on the left edge have
 * to follow it down at every level. */
static void test_descending(const struct dxl_broot *root, uint64_t free_meta_empty)
{
	uint8_t val[40];
	uint64_t k, n = 0;

	tx_start();
	for (k = 40000; k > 0; k -= 4) {
		memset(val, (int)k, sizeof(val));
		CHECK_OK(dxl_bt_insert(&fs, tx, root, k, val, sizeof(val)));
		if (dxl_tx_full(tx)) {
			tx_done();
			tx_start();
		}
	}
	tx_done();
	tx = NULL;
	CHECK(root_level(root) >= 2);
	check_nodes(root, 1);
	CHECK_OK(dxl_bt_lookup(&fs, NULL, root, 0, DXL_BT_GE, &k, NULL, NULL));
	CHECK(k == 4);
	CHECK_OK(dxl_bt_walk(&fs, NULL, root, 0, count_cb, &n));
	CHECK(n == 10000);
	destroy_tree(root);
	CHECK(fs.sb->free_meta == free_meta_empty);
}

/* ------------------------------------------------------------ refcounts */

#define RUNITS 300u

static void refc_check(const uint32_t *cnt, uint64_t base)
{
	uint64_t u, count, run, j;

	for (u = 0; u < RUNITS; u++) {
		if (cnt[u] == 0) {
			CHECK(!dxl_unit_used(&fs, tx, base + u));
			continue;
		}
		CHECK(dxl_unit_used(&fs, tx, base + u));
		CHECK_OK(dxl_refc_get(&fs, tx, base + u, &count, &run));
		CHECK(count == cnt[u]);
		CHECK(run >= 1);
		/* a free unit has no record either: it may sit in a run of 1s */
		for (j = u; j < RUNITS && j < u + run; j++)
			CHECK(cnt[j] == count || (count == 1 && cnt[j] == 0));
	}
}

struct refc_walk {
	uint64_t n, prev_end;
	const uint32_t *cnt;
	uint64_t base;
};

static int refc_walk_cb(void *arg, uint64_t key, const void *val, uint32_t vlen)
{
	struct refc_walk *w = arg;
	struct dxl_refc r;
	uint64_t i;

	CHECK(vlen == sizeof(r));
	memcpy(&r, val, sizeof(r));
	CHECK(r.count >= 2 && r.len >= 1);
	CHECK(key >= w->prev_end);
	CHECK(key >= w->base && key + r.len <= w->base + RUNITS);
	for (i = 0; i < r.len; i++)
		CHECK(w->cnt[key - w->base + i] == r.count);
	w->prev_end = key + r.len;
	w->n++;
	return 0;
}

/* A range starting at an allocated unit, running over allocated units. */
static int pick_range(const uint32_t *cnt, uint64_t *s, uint64_t *l)
{
	uint64_t start = rndn(RUNITS), len = 1 + rndn(rndn(4) ? 12 : 80), i;

	for (i = 0; i < RUNITS && cnt[(start + i) % RUNITS] == 0; i++)
		;
	if (i == RUNITS)
		return 0;
	start = (start + i) % RUNITS;
	for (i = 0; i < len && start + i < RUNITS && cnt[start + i] > 0; i++)
		;
	*s = start;
	*l = i;
	return 1;
}

static void test_refcount(void)
{
	struct dxl_broot root;
	uint32_t cnt[RUNITS];
	uint64_t base, got, free0, free_meta0, s, l, i, u, count, run;
	struct refc_walk w;
	unsigned op;

	dxl_refc_broot(&fs, &root);
	free0 = fs.sb->free_units;
	free_meta0 = fs.sb->free_meta;
	tx_start();
	CHECK_OK(dxl_unit_alloc(&fs, tx, 0, RUNITS, &base, &got));
	CHECK(got == RUNITS);
	tx_done();
	tx = NULL;
	for (u = 0; u < RUNITS; u++)
		cnt[u] = 1;

	/* unshared units: count 1, no records; a run reaches the next record */
	CHECK_OK(dxl_refc_get(&fs, NULL, base, &count, &run));
	CHECK(count == 1 && run >= RUNITS);
	CHECK_RC(dxl_refc_get(&fs, NULL, fs.sb->data_units, &count, &run), -EINVAL);
	tx_start();
	CHECK_RC(dxl_refc_inc(&fs, tx, fs.sb->data_units - 1, 2), -EINVAL);
	CHECK_RC(dxl_refc_inc(&fs, tx, base, 0), -EINVAL);
	dxl_tx_abort(tx);

	/* edges: a record split in the middle, merged back */
	tx_start();
	CHECK_OK(dxl_refc_inc(&fs, tx, base + 10, 20));
	CHECK_OK(dxl_refc_inc(&fs, tx, base + 15, 5));
	CHECK_OK(dxl_refc_get(&fs, tx, base + 12, &count, &run));
	CHECK(count == 2 && run == 3);
	CHECK_OK(dxl_refc_get(&fs, tx, base + 15, &count, &run));
	CHECK(count == 3 && run == 5);
	CHECK_OK(dxl_refc_dec(&fs, tx, base + 15, 5));
	CHECK_OK(dxl_refc_get(&fs, tx, base + 10, &count, &run));
	CHECK(count == 2 && run == 20); /* merged again */
	CHECK_OK(dxl_refc_dec(&fs, tx, base + 10, 20));
	tx_done();
	tx = NULL;
	w = (struct refc_walk){ 0, 0, cnt, base };
	CHECK_OK(dxl_bt_walk(&fs, NULL, &root, 0, refc_walk_cb, &w));
	CHECK(w.n == 0);

	/* random shares and drops against a per-unit model */
	tx_start();
	for (op = 0; op < 6000; op++) {
		if (!pick_range(cnt, &s, &l))
			break;
		if (rndn(100) < 55) {
			CHECK_OK(dxl_refc_inc(&fs, tx, base + s, l));
			for (i = 0; i < l; i++)
				cnt[s + i]++;
		} else {
			CHECK_OK(dxl_refc_dec(&fs, tx, base + s, l));
			for (i = 0; i < l; i++)
				cnt[s + i]--;
		}
		if (rndn(6) == 0 || dxl_tx_full(tx)) {
			tx_done();
			tx_start();
		}
		if (op % 200 == 0)
			refc_check(cnt, base);
	}
	tx_done();
	tx = NULL;
	refc_check(cnt, base);
	w = (struct refc_walk){ 0, 0, cnt, base };
	CHECK_OK(dxl_bt_walk(&fs, NULL, &root, 0, refc_walk_cb, &w));
	printf("  refcount: %llu records after %u operations\n", (unsigned long long)w.n, op);

	/* survives a reopen */
	pool_close();
	pool_open();
	dxl_refc_broot(&fs, &root);
	refc_check(cnt, base);

	/* drop every reference: all units free, the tree empty */
	tx_start();
	for (u = 0; u < RUNITS; u++) {
		while (cnt[u] > 0) {
			for (l = 1; u + l < RUNITS && cnt[u + l] == cnt[u]; l++)
				;
			CHECK_OK(dxl_refc_dec(&fs, tx, base + u, l));
			for (i = 0; i < l; i++)
				cnt[u + i]--;
			if (dxl_tx_full(tx)) {
				tx_done();
				tx_start();
			}
		}
	}
	tx_done();
	tx = NULL;
	refc_check(cnt, base);
	w = (struct refc_walk){ 0, 0, cnt, base };
	CHECK_OK(dxl_bt_walk(&fs, NULL, &root, 0, refc_walk_cb, &w));
	CHECK(w.n == 0);
	CHECK(fs.sb->free_units == free0);
	CHECK(fs.sb->free_meta == free_meta0);
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	struct dxl_mkfs_opts o = { 0 };
	struct dxl_inode *in;
	struct dxl_broot iroot, rroot;
	uint64_t ino, fm;
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 0x5eed1234ull;

	rng_state = seed ? seed : 1;
	printf("seed %#llx\n", (unsigned long long)seed);
	/* tmpfs when there is one: this tests the tree, not msync, and a
	 * plain file would spend minutes in thousands of small commits */
	scratch_setup("btree");

	o.size = 96u << 20;
	o.unit = 4096;
	o.meta_size = 24u << 20;
	CHECK_OK(dxl_mkfs(pool_path, &o));
	pool_open();

	/* a tree rooted in an inode (3840-byte root) */
	tx_start();
	CHECK_OK(dxl_inode_alloc(&fs, tx, S_IFREG | 0644, 0, 0, fs.sb->root_ino, &in));
	ino = in->ino;
	tx_done();
	tx = NULL;
	dxl_inode_broot(ino, &iroot);
	CHECK(iroot.blk == ino && iroot.off == DXL_INODE_HDR && iroot.cap == DXL_INODE_ROOT_CAP);
	fm = fs.sb->free_meta;
	printf("inode tree:\n");
	test_tree(&iroot, 40000, 20000, 2, fm);

	/* the dedicated-block root of the refcount tree, as a plain tree */
	dxl_refc_broot(&fs, &rroot);
	printf("block-rooted tree:\n");
	test_tree(&rroot, 16000, 8000, 1, fm);

	printf("descending keys:\n");
	test_descending(&iroot, fm);

	printf("corruption:\n");
	test_corruption(&iroot, fm);

	printf("refcounts:\n");
	test_refcount();

	pool_close();
	printf("ok\n");
	return 0;
}
