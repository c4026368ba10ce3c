/**
 * Sharding across machines: {@link hmm4j.explore.shard.ShardResult}, the JSON result of
 * {@code hmm4j explore --shard i/n}, and {@link hmm4j.explore.shard.ShardMerge}, which joins
 * the shards of one exploration ({@code hmm4j merge}); the earliest failing run index wins.
 */
package hmm4j.explore.shard;
