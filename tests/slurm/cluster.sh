#!/usr/bin/env bash
# A one-node Slurm cluster for the tests labelled `slurm` (Debian's slurm-wlm 22.05 and munge):
#   cluster.sh start DIR   munged with a key of its own, slurmctld -D and slurmd -D with a generated
#                          slurm.conf (this host, its CPUs, proctrack/linuxproc, task/none, no
#                          accounting), all state, sockets and logs under DIR; waits until the node
#                          is idle. Prints "SLURM_CONF=DIR/slurm.conf" for the callers' sbatch,
#                          squeue and scancel. Exit 77 (skip) when the packages are absent.
#   cluster.sh stop DIR    stops all three.
# Nothing outside DIR is written; the system's own munge and slurm (if any) are not touched.
set -euo pipefail
cmd=$1 dir=$2
if [ "$cmd" = stop ]; then
  for p in slurmd slurmctld munged; do
    [ -f "$dir/$p.pid" ] && kill "$(cat "$dir/$p.pid")" 2>/dev/null || true
  done
  sleep 0.5
  for p in slurmd slurmctld munged; do
    [ -f "$dir/$p.pid" ] && kill -9 "$(cat "$dir/$p.pid")" 2>/dev/null || true
  done
  exit 0
fi
for b in munged slurmctld slurmd sbatch squeue scancel sinfo; do
  command -v "$b" > /dev/null || [ -x "/usr/sbin/$b" ] || { echo "no $b (slurm-wlm, munge)"; exit 77; }
done
export PATH=$PATH:/usr/sbin
mkdir -p "$dir"/{state,spool,munge}
chmod 700 "$dir/munge"
# munged wants its key readable by its user only, and a seed and log of its own.
head -c 1024 /dev/urandom > "$dir/munge/key" && chmod 400 "$dir/munge/key"
munged --key-file="$dir/munge/key" --socket="$dir/munge/sock" --pid-file="$dir/munged.pid" \
  --log-file="$dir/munge/log" --seed-file="$dir/munge/seed" --force
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
host=$(hostname -s)
mem=$(awk '/MemTotal/ {print int($2 / 1024 / 2)}' /proc/meminfo)
cat > "$dir/slurm.conf" <<CONF
ClusterName=scalelabtest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=$(id -un)
SlurmdUser=$(id -un)
SlurmctldPort=$(port)
SlurmdPort=$(port)
AuthType=auth/munge
AuthInfo=socket=$dir/munge/sock
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
KillWait=5
MinJobAge=300
SchedulerParameters=defer
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf
slurmctld -D -i -f "$dir/slurm.conf" > "$dir/slurmctld.out" 2>&1 &
echo $! > "$dir/slurmctld.pid"
slurmd -D -f "$dir/slurm.conf" > "$dir/slurmd.out" 2>&1 &
echo $! > "$dir/slurmd.pid"
for i in $(seq 150); do
  if sinfo -h -o "%t" 2>/dev/null | grep -qx idle; then echo "SLURM_CONF=$dir/slurm.conf"; exit 0; fi
  sleep 0.2
done
echo "the one-node cluster did not come up; logs in $dir"
tail -5 "$dir/slurmctld.log" "$dir/slurmd.log" "$dir/slurmctld.out" "$dir/slurmd.out" 2>/dev/null
exit 1
