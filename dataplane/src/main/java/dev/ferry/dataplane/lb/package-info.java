/**
 * Backend selection: which endpoint of the eligible set a new flow goes to.
 *
 * <p>{@link dev.ferry.dataplane.lb.RandomSelector} is kube-proxy's default (uniform random); one per
 * worker, it owns its generator. {@link dev.ferry.dataplane.lb.ClientIpAffinitySelector} adds
 * sessionAffinity ClientIP on top of any fallback, backed by one
 * {@link dev.ferry.dataplane.lb.ClientIpAffinityTable} shared by all workers: fixed capacity,
 * lock-free, allocation-free, records keyed by a service-port key that is stable across snapshot
 * swaps (ids are not) and the client address, holding the backend's address and port (not its
 * index, which changes when endpoints change). Other policies (Maglev, round robin, least
 * connections) fit behind {@link dev.ferry.dataplane.lb.BackendSelector}.
 */
package dev.ferry.dataplane.lb;
