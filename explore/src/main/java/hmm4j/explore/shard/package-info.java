/**
 * Sharding across machines: {@link hmm4j.explore.shard.ShardResult}, the JSON result of
 * {@code hmm4j explore --shard i/n}, and {@link hmm4j.explore.shard.ShardMerge}, which joins
 * the shards of one exploration ({@code hmm4j merge}); the earliest failing run index wins.
 * {@link hmm4j.explore.shard.ShardEnvironment} reads a process's shard from the variables a
 * batch engine sets ({@code --shard auto}: Kubernetes Indexed Jobs, Slurm array jobs, CI
 * matrices); docs/sharding.md runs it on each.
 */
package hmm4j.explore.shard;
