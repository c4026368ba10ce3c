#!/usr/bin/env bash
# Submits the 4-shard array job and its merge, which waits for every array task (afterok).
#   HMM4J_JAR=/shared/hmm4j.jar HMM4J_OUT=/shared/results deploy/slurm/submit.sh
set -euo pipefail
cd "$(dirname "$0")"
shards=$(sbatch --parsable --export=ALL explore-shards.sbatch)
merge=$(sbatch --parsable --export=ALL --dependency=afterok:"$shards" merge.sbatch)
echo "shards: job $shards (array 0-3); merge: job $merge (after it); verdict in hmm4j-merge.log"
