package dev.ferry.dataplane.lb;

import dev.ferry.dataplane.service.EndpointSet;
import dev.ferry.dataplane.service.ServicePort;

/**
 * Picks one backend out of the eligible endpoint set of a service port for a new flow. Called on
 * the hot path by one worker; implementations allocate nothing and take no lock. An instance
 * may hold per-worker state (a random generator) and must then not be shared between workers;
 * shared state (affinity records) lives in thread-safe structures passed in.
 */
public interface BackendSelector {
    /**
     * @param port       the service port (policies, affinity settings, stable key)
     * @param endpoints  the eligible set, never empty
     * @param clientAddr the flow's source address
     * @param nowMs      the worker's clock in milliseconds
     * @return an index into {@code endpoints}, 0..size-1
     */
    int select(ServicePort port, EndpointSet endpoints, int clientAddr, long nowMs);
}
