# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# The steps scripts/vm/guest.sh runs in the guest, one function per phase.
# Sourced there, with DXL (the daxlease command), T (the test programs),
# DEV (the device-DAX node), FSDAX (the xfs -o dax=always mount), MODE
# (short|full), SEED and step/note from guest.sh.

if [ "$MODE" = full ]; then
	FSX_OPS=20000 KILL_ROUNDS=100 RACE_ROUNDS=500 FANOUT_PROCS=100 STRESS_S=60
else
	FSX_OPS=1500 KILL_ROUNDS=8 RACE_ROUNDS=20 FANOUT_PROCS=10 STRESS_S=10
fi
# every rdma_test mode but two, which tcp runs on the host: 'many' (64
# clients connecting at once in the emulated guest make rdma_cm refuse
# some, and ofi_rxm of libfabric 1.17 then crashes in fi_send:
# docs/vm-test.md) and 'late_challenge' (its server answers first HELLOs
# 300 ms late against 250 ms tries, which assumes a connection that comes
# up in far less; over rxe under TCG one takes about a second, and a CI
# dry run timed out)
RDMA_MODES="register access recall truncate_race truncate_race_noq commit crash server_stop"

fail() { echo "FAIL: $*"; exit 1; }

# device-DAX through the command line: the unit must be 2 MiB (and say so
# when refused), files go in and out, a reflink copy stays apart, a direct
# mapping stores through, a lease is taken and given back, fsck is clean
cli_devdax() {
	set -e
	local err=$TMPDIR/cli.err
	if $DXL mkfs --unit 4k $DEV 2>$err; then fail "mkfs --unit 4k on device-DAX succeeded"; fi
	cat $err
	grep -q 'alignment 2097152' $err || fail "the refusal does not name the 2 MiB alignment"
	$DXL mkfs --force $DEV
	$DXL info --json $DEV | tee $TMPDIR/info.json
	grep -q '"backend":"devdax"' $TMPDIR/info.json || fail "the backend is not devdax"
	grep -q '"unit":2097152' $TMPDIR/info.json || fail "the unit is not 2 MiB"
	head -c 5M /dev/urandom >$TMPDIR/a
	$DXL put $DEV $TMPDIR/a /a
	$DXL get $DEV /a $TMPDIR/b
	cmp $TMPDIR/a $TMPDIR/b
	$DXL cp --reflink $DEV /a /b
	$DXL io $DEV /b -c "pwrite -S 0x5a 0 4096"
	$DXL get $DEV /a $TMPDIR/b
	cmp $TMPDIR/a $TMPDIR/b || fail "a write to the reflinked copy reached the original"
	$DXL io $DEV /a -c "lease 0 0" -c "mmap -d 0 2m" -c "mwrite -S 0x11 4096 4096" \
		-c "munmap" -c "unlease"
	$DXL get $DEV /a $TMPDIR/b
	cmp -s $TMPDIR/a $TMPDIR/b && fail "the store through the direct mapping is not in the file"
	[ "$(dd if=$TMPDIR/b bs=4096 skip=1 count=1 status=none | od -An -tx1 -v | tr -s ' \n' '\n' | sort -u | grep -c .)" = 1 ] ||
		fail "the stored page is not all 0x11"
	$DXL leases $DEV
	$DXL fsck $DEV
}

# the fsdax side: a pool file on the xfs mounted -o dax=always must get
# the fsdax backend (MAP_SYNC), or the suite would test the page cache
cli_fsdax() {
	set -e
	$DXL mkfs --size 256m $FSDAX/cli.pool
	$DXL info --json $FSDAX/cli.pool | tee $TMPDIR/info.json
	grep -q '"backend":"fsdax"' $TMPDIR/info.json || fail "the pool on the dax mount is not fsdax"
	head -c 3M /dev/urandom >$TMPDIR/a
	$DXL put $FSDAX/cli.pool $TMPDIR/a /a
	$DXL get $FSDAX/cli.pool /a $TMPDIR/b
	cmp $TMPDIR/a $TMPDIR/b
	$DXL fsck $FSDAX/cli.pool
	rm -f $FSDAX/cli.pool
}
export -f cli_devdax cli_fsdax fail
export DXL DEV FSDAX T

on_dev() { DXL_TEST_POOL=$DEV "$@"; }
on_fsdax() { DXL_TEST_POOL=$FSDAX "$@"; }
export -f on_dev on_fsdax

# soft-RoCE: rdma_rxe on a dummy netdev, so the RDMA tests run over the
# verbs provider (with ofi_rxm) as on a real RDMA NIC, not over tcp
RXE_IP=10.99.0.1
# rxm sizes its verbs CQ by the universe size (256 peers by default), past
# rxe's 32767 entries: fi_enable then fails with EINVAL
RXE_UNIVERSE=32
rxe_setup() {
	local m
	for m in crc32_generic rdma_rxe ib_uverbs rdma_ucm dummy; do
		modprobe -C /dev/null -d "$KROOT" "$m" || fail "modprobe $m"
	done
	ip link add dxl0 type dummy && ip addr add $RXE_IP/24 dev dxl0 && ip link set dxl0 up &&
		ip link set lo up || fail "the dummy netdev"
	rdma link add rxe0 type rxe netdev dxl0 || { lsmod; dmesg | tail -n 20; fail "rdma link add rxe0"; }
	rdma link show
	ibv_devices 2>/dev/null || true
	fi_info -p "verbs;ofi_rxm" -t FI_EP_RDM 2>&1 | head -n 12
}
export -f rxe_setup

# serve and remote over verbs on the device-DAX pool: a file in and out
# byte for byte (one-sided RDMA), read-only and writable layouts
rdma_cli_devdax() {
	set -e
	local port=7471 sp
	cd "$TMPDIR"
	rm -f rdma.key && $DXL keygen rdma.key
	$DXL mkfs --force $DEV
	head -c 5M /dev/urandom >r.a
	$DXL serve $DEV --listen $RXE_IP:$port --key-file rdma.key & sp=$!
	trap 'kill $sp 2>/dev/null || true' EXIT
	local rem="$DXL remote --key-file rdma.key $RXE_IP:$port"
	for _ in $(seq 100); do $rem ls / >/dev/null 2>&1 && break; sleep 0.2; done
	$rem put r.a /a
	$rem get /a r.b
	cmp r.a r.b || fail "the file did not come back as it went in"
	$rem io /a -r -c "layout 0 4m" -c "crc 0 4m" -c return
	$rem io /a -c "layout -w 2m 4096" -c "pwrite -S 0x77 2m 4096" -c commit -c return
	$rem get /a r.b
	cmp -s r.a r.b && fail "the write through the layout is not in the file"
	kill $sp && wait $sp
	trap - EXIT
	$DXL fsck $DEV
}
export -f rdma_cli_devdax

# libfabric's MR cache keeps a closed MR reachable at the NIC (a revoked
# layout would not be): with it on, serve must refuse to start, saying why
rdma_mr_cache_refused() {
	local rc=0
	cd "$TMPDIR"
	[ -f rdma.key ] || $DXL keygen rdma.key
	$DXL mkfs --force $DEV
	FI_MR_CACHE_MONITOR=memhooks timeout 60 $DXL serve $DEV --listen $RXE_IP:7472 \
		--key-file rdma.key 2>serve.err || rc=$?
	cat serve.err
	[ "$rc" = 1 ] || fail "serve with the MR cache on exited $rc, not 1"
	grep -q "caches memory registrations" serve.err || fail "the refusal does not say why"
}
export -f rdma_mr_cache_refused
# a command over verbs;ofi_rxm on rxe0
on_rxe() {
	FI_UNIVERSE_SIZE=$RXE_UNIVERSE FI_LOG_LEVEL=${FI_LOG_LEVEL:-warn} DXL_FI_PROVIDER='verbs;ofi_rxm' \
		DXL_TEST_RDMA_ADDR=$RXE_IP "$@"
}
export -f on_rxe
export RXE_IP RXE_UNIVERSE KROOT

phase_tests() {
	step cli_devdax 300 bash -c cli_devdax
	step cli_fsdax 300 bash -c cli_fsdax
	# the random-operation test against its model, with fsck
	step fsx_devdax 900 bash -c "on_dev $T/test_fsx --unit 2m --ops $FSX_OPS --seed $SEED"
	step fsx_fsdax 900 bash -c "on_fsdax $T/test_fsx --ops $FSX_OPS --seed $SEED"
	# process kills in the middle of operations, recovery, fsck, the model
	step kill_devdax 900 bash -c "on_dev $T/test_kill --unit 2m --rounds $KILL_ROUNDS --seed $SEED"
	step kill_fsdax 900 bash -c "on_fsdax $T/test_kill --rounds $KILL_ROUNDS --seed $SEED"
	step fsck_fsdax 600 bash -c "on_fsdax $T/test_fsck"
	# leases: the race at the device's 2 MiB unit; every lease test on fsdax
	step lease_race_devdax 900 bash -c "on_dev $T/test_lease_race --unit 2097152 --rounds $RACE_ROUNDS --nq-rounds 5"
	step lease_race_fsdax 900 bash -c "on_fsdax $T/test_lease_race --rounds $RACE_ROUNDS --nq-rounds 5"
	local t
	for t in basic break mmap fork reflink revoke misuse fanout; do
		step lease_${t}_devdax 600 bash -c "on_dev $T/test_lease_$t"
		step lease_${t}_fsdax 600 bash -c "on_fsdax $T/test_lease_$t"
	done
	step lease_fanout_procs_fsdax 600 bash -c "on_fsdax $T/test_lease_fanout --procs $FANOUT_PROCS --leases 10"
	if [ "$MODE" = full ]; then
		step lease_stress_fsdax 900 bash -c "on_fsdax $T/test_lease_stress --seconds $STRESS_S --seed $SEED"
		step pmem_fsdax 600 bash -c "on_fsdax $T/test_pmem"
	fi
	# RDMA over soft-RoCE, on the device-DAX pool: the kernel refuses
	# long-term pins of fsdax pages, so an fsdax pool cannot be
	# registered with a NIC (docs/rdma.md)
	[ "${RDMA:-1}" = 1 ] || return 0
	if [ ! -x "$T/rdma_test" ]; then
		note "skip rdma: the build has no RDMA layer (DXL_RDMA=OFF)"
		return 0
	fi
	step rxe_setup 120 bash -c rxe_setup
	if grep -q '^ok rxe_setup' "${res:?}"; then
		local mode
		step rdma_cli_devdax 300 bash -c "on_rxe rdma_cli_devdax"
		step rdma_mr_cache_refused 120 bash -c "on_rxe rdma_mr_cache_refused"
		for mode in $RDMA_MODES; do
			step rdma_${mode}_devdax 300 bash -c "on_rxe on_dev $T/rdma_test $mode"
		done
	fi
}

# ---- the hard stop
# The writer's content for file I of pool TAG: deterministic, so the next
# boot can compare without a copy.
gen() { yes "$1-$2" | head -c $((3000 + $2 * 7919 % 200000)); }

# write TAG POOL: until the VM dies, in turn: put a new file, put another,
# remove the one put two steps before, overwrite a 4 KiB block of /log.
# A line goes to acks.TAG only after the command returned success: what
# is listed there completed, and must be found after the stop.
writer() {
	local tag=$1 pool=$2 i=0 acks
	acks=$out/acks.$tag
	: >"$acks"
	while :; do
		case $((i % 4)) in
		0|1) gen "$tag" $i | $DXL put "$pool" - /f$i || { echo "put $i failed"; return 1; }
		     echo "put $i" >>"$acks" ;;
		2) $DXL rm "$pool" /f$((i - 2)) || { echo "rm $((i - 2)) failed"; return 1; }
		   echo "rm $((i - 2))" >>"$acks" ;;
		3) $DXL io "$pool" /log -c "pwrite -S $((i % 251)) $((i * 4096)) 4096" >/dev/null ||
			{ echo "pwrite $i failed"; return 1; }
		   echo "pwrite $i" >>"$acks" ;;
		esac
		i=$((i + 1))
	done
}

phase_hardstop_write() {
	$DXL mkfs --force $DEV >/dev/null && $DXL io -f $DEV /log -c "truncate 0" >/dev/null ||
		note "FAIL hardstop-mkfs-devdax"
	$DXL mkfs --force --size 256m $FSDAX/hs.pool >/dev/null &&
		$DXL io -f $FSDAX/hs.pool /log -c "truncate 0" >/dev/null || note "FAIL hardstop-mkfs-fsdax"
	note "writing (the host kills the VM after a number of completed writes)"
	writer devdax $DEV >"$out/writer.devdax.log" 2>&1 &
	writer fsdax $FSDAX/hs.pool >"$out/writer.fsdax.log" 2>&1 &
	wait
	note "FAIL hardstop-writers-stopped (see writer.*.log)"
}

# check TAG POOL [ACKS]: the pool opens (recovery), fsck is clean, and
# every operation listed in ACKS (default: the writer's acks.TAG) is there
hardstop_check() {
	local tag=$1 pool=$2 acks=${3:-$out/acks.$1} what i n=0 v
	declare -A want=()
	$DXL info "$pool" >/dev/null || fail "$pool does not open after the stop"
	$DXL fsck "$pool" || fail "fsck of $pool after the stop"
	$DXL get "$pool" /log $TMPDIR/log || fail "/log is gone"
	while read -r what i; do
		n=$((n + 1))
		case $what in
		put) want[$i]=1 ;;
		rm) want[$i]=0 ;;
		pwrite)
			v=$(dd if=$TMPDIR/log bs=4096 skip="$i" count=1 status=none | od -An -tx1 -v |
				tr -s ' \n' '\n' | grep . | sort -u)
			[ "$v" = "$(printf '%02x' $((i % 251)))" ] ||
				fail "$tag: the acked pwrite $i is not in /log (found bytes: ${v:-none})" ;;
		esac
	done <"$acks"
	[ "$n" -gt 0 ] || fail "$tag: no write completed before the stop: nothing was checked"
	for i in "${!want[@]}"; do
		if [ "${want[$i]}" = 1 ]; then
			$DXL get "$pool" /f"$i" $TMPDIR/f || fail "$tag: the acked file /f$i is missing"
			cmp -s $TMPDIR/f <(gen "$tag" "$i") || fail "$tag: /f$i does not hold what was written"
		elif $DXL stat "$pool" /f"$i" >/dev/null 2>&1; then
			fail "$tag: /f$i was removed (acked) but is there"
		fi
	done
	echo "$tag: $n acked operations all found"
}
export -f hardstop_check gen
export out

phase_hardstop_check() {
	local tag
	for tag in devdax fsdax; do
		note "acked before the stop: $tag $(cat "$out/acks.$tag" 2>/dev/null | wc -l)"
	done
	step hardstop_devdax 600 bash -c "hardstop_check devdax $DEV"
	step hardstop_fsdax 600 bash -c "hardstop_check fsdax $FSDAX/hs.pool"
	# the check itself must be able to fail: a write that never happened
	# (listed as acked) and a removal that did not (an acked put's file
	# listed as removed) are both caught
	cp "$out/acks.devdax" $TMPDIR/forged && echo "put 100001" >>$TMPDIR/forged
	step hardstop_catches_missing 600 bash -c "! (hardstop_check devdax $DEV $TMPDIR/forged)"
	{ cat "$out/acks.devdax"; grep '^put' "$out/acks.devdax" | tail -n 1 | sed 's/^put/rm/'; } >$TMPDIR/forged
	step hardstop_catches_present 600 bash -c "! (hardstop_check devdax $DEV $TMPDIR/forged)"
}
