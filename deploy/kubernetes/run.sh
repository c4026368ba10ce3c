#!/usr/bin/env bash
# Runs the sharded exploration of explore-shards.yaml, then its merge, and prints the verdict;
# exits with the merge's code (0 clean, 1 failure found or shard missing, 2 unusable result).
set -euo pipefail
cd "$(dirname "$0")"
kubectl apply -f results-volume.yaml
kubectl delete job hmm4j-explore hmm4j-merge --ignore-not-found
kubectl apply -f explore-shards.yaml
kubectl wait --for=condition=complete --timeout=24h job/hmm4j-explore
kubectl apply -f merge.yaml
kubectl wait --for=condition=complete --timeout=1h job/hmm4j-merge || true
kubectl logs job/hmm4j-merge
exit "$(kubectl get pods -l job-name=hmm4j-merge -o jsonpath='{.items[0].status.containerStatuses[0].state.terminated.exitCode}')"
